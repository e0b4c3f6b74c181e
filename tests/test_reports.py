"""Releasing reports: a report-back to the community group, an update to the survivor's side.
Each is sealed under the scope of those it is for; each role reads exactly its own."""

import pytest
from django.utils import timezone

from uphold.crypto.keyring import NoKey, using
from uphold.reports.models import ReleasedReport
from uphold.reports.services import release

from .conftest import MARK, _acting


def _opens(account: dict) -> set[str]:
    """The kinds of released report whose text the member's keys open."""
    _user, ring = _acting(account)
    opened = set()
    with using(ring):
        for copy in ReleasedReport.objects.filter(process__code="kestrel"):
            try:
                copy.text  # noqa: B018  (opening it is the test)
            except NoKey:
                continue
            opened.add(copy.kind)
    return opened


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        ("community", {"report-back"}),
        ("survivor", {"survivor-update"}),
        ("respondent", set()),
        ("support", {"report-back", "survivor-update"}),
        ("contact", {"report-back", "survivor-update"}),
    ],
)
def test_each_role_opens_only_the_releases_meant_for_it(accounts, role, kinds):
    assert _opens(accounts[role]) == kinds


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("community", "report-back to the community group", "update for the survivor"),
        ("survivor", "update for the survivor", "report-back to the community group"),
    ],
)
def test_the_released_page_shows_each_role_its_own(client_for, role, shown, hidden):
    page = client_for(role).get("/p/kestrel/reports/released/").content.decode()
    assert shown in page and hidden not in page
    assert MARK + "reports.releasedreport.text" in page


def test_the_community_group_reads_nothing_of_the_record(client_for):
    """Its pages: the overview without figures, the letter and demands, its report-backs."""
    client = client_for("community")
    overview = client.get("/p/kestrel/").content.decode()
    assert "data-figure" not in overview and MARK + "record." not in overview
    for url in ("/p/kestrel/log/", "/p/kestrel/timeline/", "/p/kestrel/reports/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize(
    ("role", "kind"),
    [("support", "report-back"), ("contact", "survivor-update"), ("community", "report-back")],
)
def test_only_the_group_it_belongs_to_releases_a_kind(people, accounts, role, kind):
    from django.core.exceptions import PermissionDenied

    before = ReleasedReport.objects.count()
    _user, ring = _acting(accounts[role])
    with using(ring), pytest.raises(PermissionDenied):
        release(people[role], "kestrel", kind, timezone.localdate())
    assert ReleasedReport.objects.count() == before


def test_a_retrospective_is_not_released(people, accounts):
    from django.core.exceptions import ValidationError

    _user, ring = _acting(accounts["contact"])
    with using(ring), pytest.raises(ValidationError):
        release(people["contact"], "kestrel", "retrospective", timezone.localdate())


def test_a_release_on_the_web_is_sealed_and_audited(client_for, accounts):
    from uphold.audit.models import AuditEvent

    client = client_for("contact")
    events = AuditEvent.objects.filter(kind="release").count()
    # Something is kept from its readers by the survivor's wish: released only once checked.
    answer = client.post("/p/kestrel/reports/release/", {"kind": "report-back"})
    assert answer.status_code == 400 and "tick the box" in answer.content.decode()
    assert AuditEvent.objects.filter(kind="release").count() == events
    answer = client.post("/p/kestrel/reports/release/", {"kind": "report-back", "checked": "on"})
    assert answer.status_code == 302
    assert AuditEvent.objects.filter(kind="release").count() == events + 1
    newest = ReleasedReport.objects.order_by("-pk").first()
    assert newest.scope == "community" and newest.since == timezone.localdate()
    assert b"Report-back" not in bytes(newest.__dict__["text"])  # sealed, not in clear


def test_a_group_member_without_keys_still_sees_the_figures(people, accounts):
    """A session without the private key (as before the keys are given): the overview's
    figures are clear; what is sealed says it is locked, and the page is not refused."""
    from django.test import Client

    from .conftest import log_in

    client = log_in(Client(), people["contact"])  # no password: no key in the session
    page = client.get("/p/kestrel/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-figure="messages_to_respondent"' in html and "(locked" in html
    assert MARK not in html


def test_a_report_with_an_image_fetches_nothing_and_shows_none(as_member, tmp_path):
    from uphold.record import services as record
    from uphold.reports import services

    with as_member("contact") as contact:
        record.add_entry(
            contact,
            "kestrel",
            record.EntryData(
                occurred_on=timezone.localdate(),
                kind="decision",
                summary="![seen](https://127.0.0.1:1/pixel.png) [a](https://127.0.0.1:1/) ## h",
            ),
        )
        html = services.export(contact, "kestrel", "report-back", "html", timezone.localdate())
        pdf = services.export(contact, "kestrel", "report-back", "pdf", timezone.localdate())
    assert b"<img" not in html.content and b"<h2>h" not in html.content
    assert b'href="https://127.0.0.1:1/"' not in html.content
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.tampers
def test_a_damaged_silence_in_the_stored_tally_is_folded_afresh(client_for):
    from uphold.record.models import HealthState

    state = HealthState.objects.get(process__code="kestrel")
    for junk in (
        [[None, None]],
        [["", ""]],
        [["2020-01-01", None]],
        [["2021-01-01", "2020-01-01"]],
    ):
        HealthState.objects.filter(pk=state.pk).update(tally={**state.tally, "silences": junk})
        assert client_for("contact").get("/p/kestrel/timeline/").status_code == 200, junk


@pytest.mark.parametrize("year", ["²²²²", "٢٠٢٥", "2O25"])
def test_a_year_in_other_digits_is_refused_not_a_crash(client_for, year):
    assert client_for("contact").get(f"/p/kestrel/timeline/?year={year}").status_code == 400


@pytest.mark.tampers
def test_a_status_written_into_the_database_by_hand_does_not_break_the_pages(client_for):
    from uphold.demands.models import Demand

    Demand.objects.filter(process__code="kestrel").update(status="bogus")
    client = client_for("contact")
    assert client.get("/p/kestrel/").status_code == 200
    assert client.get("/p/kestrel/reports/?kind=retrospective").status_code == 200


# The group's own words in a report: drafted under the record, carried into every format and
# into a release, saved all or nothing, and never able to change the report's shape.


def _save_words(member, kind: str, texts: dict[str, str]) -> None:
    from uphold.reports import services

    drafts = services.drafts_of(member.memberships.get().process, kind)
    revisions = {part: d.revision for part, d in drafts.items()}
    services.save_drafts(member, "kestrel", kind, texts, revisions)


def test_the_groups_words_are_in_every_format_and_in_the_release(as_member, accounts):
    from uphold.reports import services

    words = "We met him twice this spring.\n\nHe has not yet answered the second demand."
    with as_member("contact") as contact:
        _save_words(contact, "report-back", {"summary": words})
        made = {
            fmt: services.export(contact, "kestrel", "report-back", fmt, timezone.localdate())
            for fmt in ("md", "html", "pdf")
        }
        copy = release(contact, "kestrel", "report-back", timezone.localdate(), checked=True)
    assert "We met him twice this spring." in made["md"].content.decode()
    assert "<p>He has not yet answered the second demand.</p>" in made["html"].content.decode()
    assert "twice this spring" in _pdf_text(made["pdf"].content)
    _user, ring = _acting(accounts["community"])
    with using(ring):
        assert "twice this spring" in ReleasedReport.objects.get(pk=copy.pk).text


def _pdf_text(pdf: bytes) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_the_groups_words_cannot_add_a_heading_a_link_or_an_image(as_member):
    from uphold.reports import services

    typed = (
        "# Not a heading\nTitle\n===\n![seen](https://127.0.0.1:1/p.png) [a](https://127.0.0.1:1/)"
        "\n<script>alert(1)</script>\n~~~\n- a list item"
    )
    with as_member("contact") as contact:
        _save_words(contact, "report-back", {"summary": typed})
        html = services.export(contact, "kestrel", "report-back", "html", timezone.localdate())
    page = html.content.decode()
    assert "<h1>Not a heading" not in page and "<h1>Title" not in page
    assert "<img" not in page and 'href="https://127.0.0.1:1/"' not in page
    assert "<script" not in page and "&lt;script&gt;alert(1)" in page
    assert "<pre" not in page and "<li>a list item</li>" in page


def test_a_save_over_someone_elses_words_is_a_conflict_and_saves_nothing(as_member):
    from uphold.audit.models import AuditEvent
    from uphold.reports import services
    from uphold.reports.models import ReportDraft

    with as_member("support") as support:
        services.save_drafts(support, "kestrel", "survivor-update", {"words": "first"}, {})
    events = AuditEvent.objects.count()
    with as_member("contact") as contact:
        with pytest.raises(services.Conflict):  # loaded before the support member saved
            services.save_drafts(
                contact, "kestrel", "survivor-update", {"words": "second"}, {"words": 0}
            )
        # The same words again (a form sent twice) change nothing and are no conflict.
        services.save_drafts(contact, "kestrel", "survivor-update", {"words": "first"}, {})
        draft = ReportDraft.objects.get(process__code="kestrel", kind="survivor-update")
        assert (draft.text, draft.revision) == ("first", 1)
    assert AuditEvent.objects.count() == events


def test_the_retrospective_parts_are_saved_all_or_none(as_member):
    from django.core.exceptions import ValidationError

    from uphold.reports import services
    from uphold.reports.models import ReportDraft

    with as_member("contact") as contact, pytest.raises(ValidationError) as refused:
        services.save_drafts(
            contact,
            "kestrel",
            "retrospective",
            {"formation": "We formed in 2015.", "lessons": "x" * (services.MAX_DRAFT + 1)},
            {},
        )
    assert "lessons" in refused.value.error_dict
    assert not ReportDraft.objects.filter(process__code="kestrel", kind="retrospective").exists()


def test_on_the_web_a_stale_save_keeps_the_text_and_says_why(client_for, as_member):
    from uphold.reports import services
    from uphold.reports.models import ReportDraft

    client = client_for("contact")
    page = client.get("/p/kestrel/reports/?kind=retrospective").content.decode()
    assert "(Not written yet" in page and 'name="revision_formation" value="0"' in page
    with as_member("support") as support:
        services.save_drafts(support, "kestrel", "retrospective", {"formation": "theirs"}, {})
    form = {"kind": "retrospective", "formation": "mine", "revision_formation": "0"}
    form |= {f"revision_{p}": "0" for p in ("surroundings", "reflections", "lessons", "left_out")}
    answer = client.post("/p/kestrel/reports/words/", form)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "nothing was saved" in html and ">\nmine</textarea>" in html
    assert 'name="revision_formation" value="1"' in html  # saving again now overwrites theirs
    assert ReportDraft.objects.get(process__code="kestrel", part="formation").revision == 1
    form["revision_formation"] = "1"
    assert client.post("/p/kestrel/reports/words/", form).status_code == 302
    page = client.get("/p/kestrel/reports/?kind=retrospective").content.decode()
    assert "<p>mine</p>" in page


def test_the_retrospective_leaves_out_every_name_the_process_holds(as_member):
    from uphold.reports import services

    person, place, term = (
        MARK + "people.person.name",
        MARK + "processes.processgroup.place",
        MARK + "processes.process.survivor_term",
    )
    told = (
        f"{person} and {place.upper()} came in; the contact group wrote to {term}.\n"
        "Jo   Bloggs and jo bloggs helped; Jonathan and Jo did not."
    )
    with as_member("contact") as contact:
        _save_words(
            contact,
            "retrospective",
            {"formation": told, "lessons": "Ask Jo Bloggs.", "left_out": "Jo Bloggs\n\n"},
        )
        text = services.export(contact, "kestrel", "retrospective", "md", timezone.localdate())
    text = text.content.decode()
    formed = text.split("came in;")[0].split("\n")[-1] + text.split("came in;")[1].split("\n")[0]
    for name in (person, place, term):
        assert name.lower() not in formed.lower(), name
    assert "Bloggs" not in text
    assert text.count("\\[name left out\\]") == 6  # (escaped in the Markdown)
    assert "Jonathan and Jo did not." in text
    assert "the contact group wrote to" in text  # a username ("contact") is not a name here
