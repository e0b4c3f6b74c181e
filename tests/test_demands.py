"""The letter and the demands: the survivor's side owns them, and nothing weakens them quietly.

Kestrel's fixtures hold demand 1 at revision 2 (written, then changed by the support member),
and one proposal from the contact member, refused.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from uphold.audit.models import AuditEvent
from uphold.demands import queries, services
from uphold.demands.models import ChangeProposal, Demand, DemandVersion, ProposalState, Status
from uphold.web import once

from .conftest import ROLES, database_state, with_token

OK = "ok"
# What each role gets from each rule: allowed, refused (403) or not their process (404).
ADD = {"survivor": OK, "support": OK, "contact": 403, "community": 403, "respondent": 403}
PROPOSE = ADD | {"contact": OK}
DECIDE = ADD
ANSWER = {"survivor": 403, "support": OK, "contact": OK, "community": 403, "respondent": 403}
LETTER = ADD
OUTSIDERS = {"outsider": 404, "admin": 404}
EXPECTED = {
    Http404: 404,
    PermissionDenied: 403,
}

CRITERIA = "every group he joins is told\nmembers outside its leadership are told"


def outcome(call) -> str | int:
    try:
        call()
    except (Http404, PermissionDenied) as error:
        return EXPECTED[type(error)]
    return OK


def a_proposal(as_member, **change) -> ChangeProposal:
    with as_member("contact") as contact:
        return services.propose_change(
            contact,
            "kestrel",
            1,
            **{
                "wording": "Seek critical help",
                "reasons": "",
                "criteria": CRITERIA,
                "why": "he asked",
                "softer": False,
                "base_revision": 2,
            }
            | change,
        )


@pytest.mark.parametrize("role", ROLES[1:])
def test_only_the_survivor_side_adds_demands(role, as_member):
    before = database_state()
    with as_member(role) as user:
        got = outcome(lambda: services.add_demand(user, "kestrel", "Inform", "", CRITERIA))
    assert got == (ADD | OUTSIDERS)[role]
    if got != OK:
        assert database_state() == before
    else:
        assert Demand.objects.filter(process__code="kestrel", number=2).exists()


@pytest.mark.parametrize("role", ROLES[1:])
def test_who_may_propose_a_change(role, as_member):
    before = database_state()
    with as_member(role) as user:
        got = outcome(
            lambda: services.propose_change(
                user, "kestrel", 1, wording="Seek help", reasons="", criteria=CRITERIA,
                why="clearer", softer=False, base_revision=2,
            )
        )  # fmt: skip
    assert got == (PROPOSE | OUTSIDERS)[role]
    if got != OK:
        assert database_state() == before


def test_a_contact_member_proposes_but_never_applies(as_member):
    before = database_state()
    with as_member("contact") as contact, pytest.raises(PermissionDenied):
        services.propose_change(
            contact, "kestrel", 1, wording="Seek help", reasons="", criteria=CRITERIA,
            why="quicker", softer=False, base_revision=2, apply_now=True,
        )  # fmt: skip
    assert database_state() == before


@pytest.mark.parametrize("role", ROLES[1:])
def test_only_the_survivor_side_answers_a_proposal(role, as_member):
    proposal = a_proposal(as_member)
    before = database_state()
    with as_member(role) as user:
        got = outcome(
            lambda: services.decide(user, "kestrel", proposal.pk, approve=True, answer="")
        )
    assert got == (DECIDE | OUTSIDERS)[role]
    proposal.refresh_from_db(fields=["state"])
    if got == OK:
        assert proposal.state == ProposalState.APPROVED
        assert Demand.objects.get(process__code="kestrel", number=1).revision == 3
    else:
        assert proposal.state == ProposalState.WAITING
        assert database_state() == before


def test_a_contact_member_posting_the_approval_form_gets_403_and_changes_nothing(
    as_member, client_for
):
    proposal = a_proposal(as_member)
    client = client_for("contact")
    before = database_state()
    url = reverse("proposal", kwargs={"code": "kestrel", "proposal_id": proposal.pk})
    response = client.post(url, {"decision": "approve", "answer": "fine"})
    assert response.status_code == 403
    assert database_state() == before


STATUS_RULES = {
    "survivor": set(Status.values),
    "support": set(Status.values),
    "contact": {Status.IN_PROGRESS, Status.REFUSED},
    "community": set(),
    "respondent": set(),
}


@pytest.mark.parametrize("role", list(STATUS_RULES))
@pytest.mark.parametrize("status", [s for s in Status.values if s != Status.IN_PROGRESS])
def test_who_may_set_which_status(role, status, as_member):
    """Demand 1 stands at "in progress" in the fixtures."""
    before = database_state()
    with as_member(role) as user:
        got = outcome(
            lambda: services.record_progress(
                user, "kestrel", 1, note="seen", status=status, status_seen=Status.IN_PROGRESS
            )
        )
    demand = Demand.objects.get(process__code="kestrel", number=1)
    if status in STATUS_RULES[role]:
        assert got == OK
        assert demand.status == status
    else:
        assert got == 403
        assert demand.status == Status.IN_PROGRESS
        assert database_state() == before


def test_a_contact_member_records_evidence_without_changing_the_status(as_member):
    with as_member("contact") as contact:
        progress = services.record_progress(
            contact, "kestrel", 1, note="told two groups", status="progress", status_seen="progress"
        )
    assert (progress.status_before, progress.status_after) == ("progress", "progress")


@pytest.mark.parametrize("role", ROLES[1:])
def test_who_records_what_x_said(role, as_member):
    with as_member(role) as user:
        got = outcome(
            lambda: services.record_answer(
                user, "kestrel", 1, kind="renegotiate", said_on=timezone.localdate(), note=""
            )
        )
    assert got == (ANSWER | OUTSIDERS)[role]


@pytest.mark.parametrize("role", ROLES[1:])
def test_who_edits_the_letter(role, as_member):
    with as_member(role) as user:
        got = outcome(lambda: services.save_letter(user, "kestrel", "Dear X", base_revision=1))
    assert got == (LETTER | OUTSIDERS)[role]


def test_every_version_is_kept_with_who_proposed_and_who_approved(as_member, people):
    proposal = a_proposal(as_member, wording="Seek competent critical help")
    with as_member("survivor") as survivor:
        services.decide(survivor, "kestrel", proposal.pk, approve=True, answer="yes")
        demand = Demand.objects.get(process__code="kestrel", number=1)
        versions = list(DemandVersion.objects.filter(demand=demand).order_by("revision"))
        assert [v.revision for v in versions] == [1, 2, 3]
        assert versions[2].wording == demand.wording == "Seek competent critical help"
        assert (versions[2].proposed_by, versions[2].approved_by) == (
            people["contact"],
            people["survivor"],
        )
        assert versions[2].why == "he asked"
        assert versions[1].wording != versions[2].wording  # the earlier one is untouched
        changes = queries.changes(versions[1], versions[2])
    assert ("Seek competent critical help", "added") in [
        (s.text, s.change) for s in changes.wording
    ]


@pytest.mark.parametrize(
    ("change", "softens", "dropped"),
    [
        ({"criteria": "every group he joins is told"}, True, 1),
        ({"softer": True}, True, 0),
        ({"criteria": CRITERIA + "\nhis partners are told"}, False, 0),
    ],
)
def test_a_softer_proposal_is_labelled_for_the_approver(
    change, softens, dropped, as_member, client_for
):
    with as_member("support") as support:
        services.propose_change(
            support, "kestrel", 1, wording="Seek help", reasons="", criteria=CRITERIA,
            why="baseline", softer=False, base_revision=2, apply_now=True,
        )  # fmt: skip
    with as_member("contact") as contact:
        proposal = services.propose_change(
            contact,
            "kestrel",
            1,
            **{"wording": "Seek some help", "reasons": "", "criteria": CRITERIA, "why": "w"}
            | {"softer": False, "base_revision": 3}
            | change,
        )
    assert (proposal.softens, proposal.drops_criteria) == (softens, dropped)
    url = reverse("proposal", kwargs={"code": "kestrel", "proposal_id": proposal.pk})
    page = client_for("support").get(url).content.decode()
    assert ("Softens the demand." in page) == softens


def test_approving_a_proposal_made_against_an_older_version_is_a_conflict(as_member):
    first, second = a_proposal(as_member), a_proposal(as_member, wording="Another wording")
    with as_member("support") as support:
        services.decide(support, "kestrel", first.pk, approve=True, answer="")
        before = database_state()
        with pytest.raises(services.Conflict):
            services.decide(support, "kestrel", second.pk, approve=True, answer="")
    assert database_state() == before
    second.refresh_from_db(fields=["state"])
    assert second.state == ProposalState.WAITING


def test_concurrent_edits_the_second_gets_a_conflict_and_keeps_its_text(client_for, as_member):
    """Both opened the form at revision 2; the support member saved first."""
    with as_member("support") as support:
        services.propose_change(
            support, "kestrel", 1, wording="First wording", reasons="", criteria=CRITERIA,
            why="first", softer=False, base_revision=2, apply_now=True,
        )  # fmt: skip
    client = client_for("survivor")
    before = database_state()
    url = reverse("demand-propose", kwargs={"code": "kestrel", "number": 1})
    form = {
        "wording": "Second wording, not lost",
        "reasons": "",
        "criteria": CRITERIA,
        "why": "second",
        "revision": "2",
        "apply": "now",
    }
    response = client.post(url, with_token(form))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Someone changed this demand while you were working on it" in page
    assert "Second wording, not lost" in page
    assert database_state() == before
    with as_member("survivor"):
        assert Demand.objects.get(process__code="kestrel", number=1).wording == "First wording"


def test_apply_now_says_the_change_is_applied(client_for, as_member):
    """The survivor's side applies a change at once: the page says so, not "proposal sent"."""
    response = client_for("support").post(
        reverse("demand-propose", kwargs={"code": "kestrel", "number": 1}),
        {
            "once": once.fresh(),
            "wording": "Applied at once",
            "reasons": "",
            "criteria": CRITERIA,
            "why": "clearer",
            "revision": "2",
            "apply": "now",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "The demand is changed; the earlier version is kept." in page
    assert "Your proposal is sent" not in page
    with as_member("support"):
        assert Demand.objects.get(process__code="kestrel", number=1).wording == "Applied at once"


def test_apply_now_returns_the_applied_proposal(as_member):
    with as_member("survivor") as survivor:
        proposal = services.propose_change(
            survivor, "kestrel", 1, wording="Applied", reasons="", criteria=CRITERIA,
            why="clearer", softer=False, base_revision=2, apply_now=True,
        )  # fmt: skip
    assert proposal.state == ProposalState.APPROVED
    assert proposal.decided_by == survivor


def test_a_proposal_is_answered_once(as_member):
    """A second answer (a double click, a second member) is refused; it applies once."""
    proposal = a_proposal(as_member)
    results = []
    with as_member("support") as support:
        for _ in range(2):
            try:
                services.decide(support, "kestrel", proposal.pk, approve=True, answer="")
                results.append("applied")
            except ValidationError:
                results.append("refused")
    assert results == ["applied", "refused"]
    assert DemandVersion.objects.filter(proposal=proposal).count() == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"wording": ""}, "This field is required."),
        ({"wording": "   "}, "This field is required."),
        (
            {"criteria": "\n".join(f"criterion {i}" for i in range(10_000))},
            "That is 10000 criteria",
        ),
        ({"criteria": "x" * 1_001}, "Keep each criterion under 1000 characters."),
        ({"wording": "w" * 2_001}, "Keep the wording under 2000 characters."),
    ],
)
def test_bad_demand_input_explains_and_changes_nothing(form, message, client_for):
    client = client_for("support")
    before = database_state()
    data = {"wording": "Inform new groups", "reasons": "", "criteria": CRITERIA} | form
    response = client.post(reverse("demand-add", kwargs={"code": "kestrel"}), with_token(data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before


def test_bad_input_is_explained_in_german(client_for):
    client = client_for("support", HTTP_ACCEPT_LANGUAGE="de")
    data = {"wording": "W", "reasons": "", "criteria": "\n".join(["c"] * 10_000)}
    response = client.post(reverse("demand-add", kwargs={"code": "kestrel"}), with_token(data))
    assert "Das sind 10000 Kriterien" in response.content.decode()


SCRIPT = '<script>alert("x")</script><b onmouseover="x()">bold</b>'


def test_html_in_every_field_is_shown_as_text(as_member, client_for):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", SCRIPT, base_revision=1)
        services.save_letter(support, "kestrel", SCRIPT + "2", base_revision=2)
        demand = services.add_demand(support, "kestrel", SCRIPT, SCRIPT, SCRIPT)
    with as_member("contact") as contact:
        proposal = services.propose_change(
            contact, "kestrel", demand.number, wording=SCRIPT + "2", reasons=SCRIPT,
            criteria=SCRIPT, why=SCRIPT, softer=True, base_revision=1,
        )  # fmt: skip
        services.record_progress(
            contact, "kestrel", demand.number, note=SCRIPT, status="open", status_seen="open"
        )
        services.record_answer(
            contact, "kestrel", demand.number, kind="refuses", said_on=timezone.localdate(),
            note=SCRIPT,
        )  # fmt: skip
    with as_member("support") as support:
        services.decide(support, "kestrel", proposal.pk, approve=False, answer=SCRIPT)
    client = client_for("support")
    pages = [
        reverse("demands", kwargs={"code": "kestrel"}),
        reverse("demand", kwargs={"code": "kestrel", "number": demand.number}),
        reverse("proposal", kwargs={"code": "kestrel", "proposal_id": proposal.pk}),
        reverse("demand-propose", kwargs={"code": "kestrel", "number": demand.number}),
        reverse("letter-edit", kwargs={"code": "kestrel"}),
        reverse("letter-version", kwargs={"code": "kestrel", "revision": 2}),
        reverse("letter-sent", kwargs={"code": "kestrel"}),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "<b onmouseover" not in page, url
        assert "&lt;script&gt;alert" in page, url


def test_a_proposal_sends_a_notice_without_details_to_the_survivor_side(
    as_member, people, smtp_server, monkeypatch
):
    # The worker runs here, inside the test's transaction: it must not close the test's
    # database connection between tasks, as it does (rightly) when it runs on its own.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    for role in ("survivor", "support", "contact"):
        people[role].email = f"{role}@example.org"
        people[role].save(update_fields=["email"])
    people["survivor"].language = "de"
    people["survivor"].save(update_fields=["language"])
    a_proposal(as_member, wording="MARKER-secret wording")
    call_command("worker", batch=True, startup_delay=False, verbosity=0, remind_every=0)
    received = {tuple(to): message for to, message in smtp_server.messages}
    assert set(received) == {("survivor@example.org",), ("support@example.org",)}
    english = received[("support@example.org",)]
    assert "demand 1" in english.get_content()
    assert "kestrel" in english["Subject"]
    german = received[("survivor@example.org",)]
    assert "Forderung 1" in german.get_content()
    for message in received.values():
        assert "MARKER" not in message.as_string()
        assert "he asked" not in message.as_string()


def test_the_audit_log_holds_the_proposal_and_its_refusal(as_member):
    proposal = a_proposal(as_member)
    with as_member("support") as support:
        services.decide(support, "kestrel", proposal.pk, approve=False, answer="no")
    kinds = list(
        AuditEvent.objects.filter(
            object_type="demands.changeproposal", object_id=str(proposal.pk)
        ).values_list("kind", flat=True)
    )
    assert kinds == ["propose", "refuse"]
    assert Demand.objects.get(process__code="kestrel", number=1).revision == 2


def test_answers_are_counted_for_reports(as_member):
    with as_member("contact") as contact:
        for _ in range(3):
            services.record_answer(
                contact, "kestrel", 1, kind="renegotiate", said_on=timezone.localdate(), note=""
            )
        membership = contact.memberships.get(process__code="kestrel")
        demand = Demand.objects.get(process__code="kestrel", number=1)
        with translation.override("en"):
            page = queries.demand_page(membership, demand)
            counts = [(str(label), n) for label, n in page.answer_counts]
    # Three here, one in the fixtures.
    assert ("asks to renegotiate", 4) in counts


def test_a_future_date_for_what_x_said_is_refused(as_member):
    with as_member("contact") as contact, pytest.raises(ValidationError):
        services.record_answer(
            contact, "kestrel", 1, kind="accepts",
            said_on=timezone.localdate() + timezone.timedelta(days=2), note="",
        )  # fmt: skip


def test_a_member_without_the_key_sees_a_locked_page_not_an_error(client_for):
    from uphold.crypto import sessions

    client = client_for("community")
    del client.cookies[sessions.cookie_name()]
    response = client.get(reverse("demand", kwargs={"code": "kestrel", "number": 1}))
    assert response.status_code == 403
    assert "Locked for now" in response.content.decode()


def test_the_letter_as_sent_is_readable_by_every_member_and_stored_sealed(client_for, as_member):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from uphold.attachments.models import Attachment

    support = client_for("support")
    upload = SimpleUploadedFile("letter.pdf", b"%PDF the letter as sent")
    response = support.post(
        reverse("letter-documents", kwargs={"code": "kestrel"}), {"file": upload}
    )
    assert response.status_code == 302
    letter = Attachment.objects.filter(process__code="kestrel", scope="shared").latest("created_at")
    url = reverse("letter-document", kwargs={"code": "kestrel", "attachment_id": letter.pk})
    for role in ("community", "survivor"):
        body = b"".join(client_for(role).get(url).streaming_content)
        assert body == b"%PDF the letter as sent", role
    assert client_for("respondent").get(url).status_code == 403  # his portal, not the letter
    assert b"the letter as sent" not in bytes(letter.parts.get().__dict__["data"])
    # The group's own documents stay theirs.
    record = Attachment.objects.filter(process__code="kestrel", scope="record").first()
    other = reverse("letter-document", kwargs={"code": "kestrel", "attachment_id": record.pk})
    assert client_for("community").get(other).status_code == 404


def _grow(as_member, times: int) -> None:
    for i in range(times):
        proposal = a_proposal(
            as_member,
            wording=f"Wording {times}-{i}",
            base_revision=Demand.objects.get(number=1).revision,
        )
        with as_member("support") as support:
            services.decide(support, "kestrel", proposal.pk, approve=i % 2 == 0, answer="")
        with as_member("contact") as contact:
            services.record_progress(
                contact, "kestrel", 1, note="n", status="progress", status_seen="progress"
            )
            services.record_answer(
                contact, "kestrel", 1, kind="none", said_on=timezone.localdate(), note=""
            )
        with as_member("support") as support:
            services.add_demand(support, "kestrel", f"Demand {times}-{i}", "", CRITERIA)


def test_demand_pages_need_the_same_number_of_queries_however_long_the_history(
    as_member, client_for
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("support")
    urls = [
        reverse("demands", kwargs={"code": "kestrel"}),
        reverse("demand", kwargs={"code": "kestrel", "number": 1}),
    ]

    def counts() -> list[int]:
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries_made:
                assert client.get(url).status_code == 200
            found.append(len(queries_made))
        return found

    _grow(as_member, 2)
    small = counts()
    _grow(as_member, 6)
    assert counts() == small
