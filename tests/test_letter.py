"""The letter keeps every wording: who saved it and when, the version handed over to X marked
as sent for good, and a save against an older wording refused, never a silent overwrite.

Kestrel's fixtures hold the letter at version 1, marked as handed over today.
"""

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from uphold.audit import services as audit
from uphold.audit.models import AuditEvent, Kind
from uphold.demands import services
from uphold.demands.models import Letter, LetterVersion
from uphold.processes.models import Process

from .conftest import MARK, ROLES, database_state, with_token
from .test_demands import OK, OUTSIDERS, outcome

LETTER_TEXT = MARK + "demands.letter.text"
HANDED_TO = MARK + "demands.letter.handed_to"
MARKS = {"survivor": OK, "support": OK, "contact": OK, "community": 403, "respondent": 403}


def letter() -> Letter:
    return Letter.objects.get(process__code="kestrel")


def versions() -> list[LetterVersion]:
    return list(LetterVersion.objects.filter(process__code="kestrel").order_by("revision"))


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"code": "kestrel", **kwargs})


def test_every_saved_wording_is_kept_with_who_saved_it_and_when(as_member, people):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "Second wording", base_revision=1)
    with as_member("survivor") as survivor:
        services.save_letter(survivor, "kestrel", "Third wording", base_revision=2)
        kept = versions()
        assert [v.revision for v in kept] == [1, 2, 3]
        assert [v.text for v in kept] == [LETTER_TEXT, "Second wording", "Third wording"]
        assert [v.saved_by for v in kept] == [people["support"], people["support"], survivor]
        assert kept[0].saved_at <= kept[1].saved_at <= kept[2].saved_at
        assert (letter().revision, letter().text) == (3, "Third wording")


def test_a_save_against_an_older_wording_is_a_conflict_and_changes_nothing(as_member):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "Saved first", base_revision=1)
        before = database_state()
        with pytest.raises(services.Conflict):
            services.save_letter(support, "kestrel", "Saved second", base_revision=1)
        assert database_state() == before
        assert letter().text == "Saved first"


def test_the_second_of_two_editors_is_told_and_keeps_their_text(as_member, client_for):
    """Both opened the form at version 1; the support member saved first."""
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "The support member's wording", base_revision=1)
    client = client_for("survivor")
    before = database_state()
    response = client.post(
        url("letter-edit"),
        with_token({"text": "The survivor's wording, not lost", "revision": "1"}),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Someone saved a new wording of the letter while you were working on it" in page
    assert "The survivor&#x27;s wording, not lost" in page
    assert "The support member&#x27;s wording" in page  # the current wording, to compare
    assert 'name="revision" value="2"' in page  # saving again now saves on top of it
    assert database_state() == before


def test_saving_the_current_wording_again_is_refused(as_member, client_for):
    client = client_for("support")
    before = database_state()
    response = client.post(url("letter-edit"), with_token({"text": LETTER_TEXT, "revision": "1"}))
    assert response.status_code == 400
    assert "there is nothing new to save" in response.content.decode()
    assert database_state() == before


def test_a_page_changed_by_hand_is_refused_with_a_message(client_for):
    client = client_for("support")
    before = database_state()
    response = client.post(url("letter-edit"), with_token({"text": "New", "revision": "x"}))
    assert response.status_code == 400
    assert "This page is out of date" in response.content.decode()
    assert database_state() == before


def test_the_first_letter_is_version_one(as_member, people):
    with as_member("outsider") as outsider:
        with pytest.raises(services.Conflict):
            services.save_letter(outsider, "heron", "Dear X", base_revision=3)
        services.save_letter(outsider, "heron", "Dear X", base_revision=0)
        first = LetterVersion.objects.get(process__code="heron")
        assert (first.revision, first.text, first.saved_by) == (1, "Dear X", outsider)
        assert not first.sent


def test_the_version_marked_as_sent_stays_marked_after_an_edit(as_member, client_for):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "After it was handed over", base_revision=1)
        sent, current = versions()
        assert sent.sent and not current.sent
        assert (sent.handed_over_on, sent.handed_to) == (timezone.localdate(), HANDED_TO)
        assert sent.text == LETTER_TEXT
    page = client_for("community").get(url("demands")).content.decode()
    assert "After it was handed over" in page
    assert "version 1 is the one" in page
    assert url("letter-version", revision=1) in page
    old = client_for("community").get(url("letter-version", revision=1)).content.decode()
    assert LETTER_TEXT in old and HANDED_TO in old
    assert "This is an earlier wording, kept for reading" in old


def test_a_later_version_can_be_handed_over_too_and_the_first_keeps_its_mark(as_member):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "For his new group", base_revision=1)
    with as_member("contact") as contact:
        services.mark_sent(
            contact, "kestrel", revision=2, handed_over_on=timezone.localdate(),
            handed_to="Sent to his new group by the contact group",
        )  # fmt: skip
        first, second = versions()
        assert first.sent and first.handed_to == HANDED_TO
        assert second.sent and second.handed_to == "Sent to his new group by the contact group"
        assert letter().handed_to == second.handed_to


def test_marking_a_wording_nobody_checked_is_a_conflict(as_member, client_for):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "Changed meanwhile", base_revision=1)
    client = client_for("contact")
    before = database_state()
    response = client.post(
        url("letter-sent"),
        {"handed_over_on": "2020-01-01", "handed_to": "him", "revision": "1"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "so nothing was marked" in page
    assert "Changed meanwhile" in page
    assert database_state() == before


def test_a_version_is_marked_as_sent_once(as_member):
    before = database_state()
    with as_member("contact") as contact, pytest.raises(ValidationError) as refused:
        services.mark_sent(
            contact, "kestrel", revision=1, handed_over_on=date(2020, 1, 1), handed_to="again"
        )
    assert "already marked" in str(refused.value)
    assert database_state() == before


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"handed_over_on": ""}, "This field is required."),
        ({"handed_to": "  "}, "This field is required."),
        ({"handed_over_on": "2015-02-30"}, "Enter a valid date."),
        (
            {"handed_over_on": (timezone.localdate() + timedelta(days=3)).isoformat()},
            "That date is in the future.",
        ),
        ({"handed_to": "x" * 20_001}, "Keep this under 20000 characters."),
    ],
)
def test_bad_handover_input_explains_and_changes_nothing(form, message, as_member, client_for):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "Not handed over yet", base_revision=1)
    client = client_for("contact")
    before = database_state()
    data = {"handed_over_on": "2020-01-01", "handed_to": "him", "revision": "2"} | form
    response = client.post(url("letter-sent"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before


@pytest.mark.parametrize("role", ROLES[1:])
def test_who_may_mark_the_letter_as_sent(role, as_member):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "To mark", base_revision=1)
    before = database_state()
    with as_member(role) as user:
        got = outcome(
            lambda: services.mark_sent(
                user, "kestrel", revision=2, handed_over_on=date(2020, 1, 1), handed_to="him"
            )
        )
    assert got == (MARKS | OUTSIDERS)[role]
    if got != OK:
        assert database_state() == before
    else:
        assert versions()[1].sent


def test_the_letter_page_offers_marking_only_what_can_be_marked(as_member, client_for):
    mark = "Mark this version as handed over"
    assert mark not in client_for("contact").get(url("demands")).content.decode()
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "Not handed over yet", base_revision=1)
    assert mark in client_for("contact").get(url("demands")).content.decode()
    assert mark not in client_for("respondent").get(url("demands")).content.decode()


def test_every_new_version_is_an_audit_event_and_the_chain_holds(as_member):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "Audited wording", base_revision=1)
        newest = versions()[-1]
    events = AuditEvent.objects.filter(object_type="demands.letterversion")
    assert events.filter(object_id=str(newest.pk), kind=Kind.CREATE).count() == 1
    assert audit.verify(Process.objects.get(code="kestrel")) is None


def test_who_saved_a_wording_is_shown_only_to_those_who_see_who_wrote_what(
    as_member, client_for, people
):
    with as_member("support") as support:
        services.save_letter(support, "kestrel", "Second", base_revision=1)
    name = people["support"].username
    for role, shown in [("survivor", True), ("contact", True), ("community", False)]:
        for page_url in (url("demands"), url("letter-version", revision=1)):
            page = client_for(role).get(page_url).content.decode()
            assert (f"by {name}" in page) == shown, (role, page_url)


def test_a_version_that_does_not_exist_is_404(client_for):
    assert client_for("support").get(url("letter-version", revision=9)).status_code == 404
    heron = reverse("letter-version", kwargs={"code": "heron", "revision": 1})
    assert client_for("support").get(heron).status_code == 404


def test_the_letter_pages_need_the_same_number_of_queries_however_many_versions(
    as_member, client_for
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("support")

    def grow(times: int) -> None:
        with as_member("support") as support:
            for _ in range(times):
                revision = letter().revision
                services.save_letter(support, "kestrel", f"v{revision + 1}", base_revision=revision)

    def counts() -> list[int]:
        found = []
        for page_url in (url("demands"), url("letter-version", revision=1), url("letter-sent")):
            with CaptureQueriesContext(connection) as made:
                assert client.get(page_url).status_code == 200
            found.append(len(made))
        return found

    grow(2)
    small = counts()
    grow(6)
    assert counts() == small


MIGRATION = importlib.import_module("uphold.demands.migrations.0003_letter_versions")


def _a_letter_saved_before_versions(as_member) -> Letter:
    """As the letter was saved before versions were kept: one row, one audit event."""
    with as_member("outsider") as outsider:
        heron = Process.objects.get(code="heron")
        old = Letter.objects.create(process=heron, handed_over_on=date(2015, 6, 1))
        old.text, old.handed_to = "Dear X, as it was", "Given to X at the group meeting"
        old.save()
        audit.record(outsider, heron, Kind.CHANGE, old)
    return old


def test_the_migration_turns_an_existing_letter_into_version_one(as_member, client_for):
    old = _a_letter_saved_before_versions(as_member)
    kestrel_before = versions()
    MIGRATION.letters_become_version_one(apps, None)
    first = LetterVersion.objects.get(letter=old)
    assert (first.revision, first.sent, first.carried_over) == (1, True, True)
    assert (first.handed_over_on, first.saved_by, first.saved_at) == (
        date(2015, 6, 1),
        None,
        old.updated_at,
    )
    assert versions() == kestrel_before  # a letter that has versions is left alone
    heron = Process.objects.get(code="heron")
    assert list(
        AuditEvent.objects.filter(process=heron)
        .order_by("-seq")
        .values_list("kind", "object_type")[:2]
    ) == [("change", "demands.letter"), ("create", "demands.letterversion")]
    assert audit.verify(heron) is None
    # Every member reads version 1 as the letter it was, marked as sent.
    client = client_for("outsider")
    page = client.get(reverse("demands", kwargs={"code": "heron"})).content.decode()
    assert "Dear X, as it was" in page and "Given to X at the group meeting" in page
    assert "This version, handed over on" in page
    version_page = client.get(reverse("letter-version", kwargs={"code": "heron", "revision": 1}))
    assert "Dear X, as it was" in version_page.content.decode()
    # Running it again adds nothing.
    MIGRATION.letters_become_version_one(apps, None)
    assert LetterVersion.objects.filter(letter=old).count() == 1


def test_the_next_save_gives_a_carried_over_version_its_own_copy(as_member):
    old = _a_letter_saved_before_versions(as_member)
    MIGRATION.letters_become_version_one(apps, None)
    with as_member("outsider") as outsider:
        services.save_letter(outsider, "heron", "Dear X, now changed", base_revision=1)
        first, second = LetterVersion.objects.filter(letter=old).order_by("revision")
        assert not first.carried_over
        assert (first.text, first.handed_to) == (
            "Dear X, as it was",
            "Given to X at the group meeting",
        )
        assert first.sent
        assert (second.text, second.sent) == ("Dear X, now changed", False)
    assert audit.verify(Process.objects.get(code="heron")) is None
