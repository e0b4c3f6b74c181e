"""The survivor's page: preferences the groups and the reminders follow, what is kept from
whom, the items the survivor's side asks for, and the survivor's own choice of full access."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from uphold.crypto.keyring import NoKey, using
from uphold.record import reminders
from uphold.record.models import ReminderKind
from uphold.reports.models import ReleasedReport
from uphold.survivor import services
from uphold.survivor.models import ItemRequest, Preferences, ReleasedItem, Withholding

from .conftest import MARK, _acting, database_state


def _wishes(**changes) -> services.Wishes:
    chosen = {"rhythm": "monthly", "through": "directly", "taking_part": "big"}
    return services.Wishes(**(chosen | {"content_note": True} | changes))


def _revision() -> int:
    return Preferences.objects.get(process__code="kestrel").revision


def test_preferences_are_saved_by_the_survivors_side_only(people, as_member):
    with as_member("survivor") as survivor:
        services.save_preferences(
            survivor, "kestrel", _wishes(rhythm="quarterly"), base_revision=_revision()
        )
    assert Preferences.objects.get(process__code="kestrel").rhythm == "quarterly"
    for role in ("contact", "community", "respondent"):
        with as_member(role) as member, pytest.raises(PermissionDenied):
            services.save_preferences(member, "kestrel", _wishes(), base_revision=_revision())


def test_a_stale_save_of_preferences_is_a_conflict(as_member):
    stale = _revision()
    with as_member("survivor") as survivor:
        services.save_preferences(survivor, "kestrel", _wishes(rhythm="never"), base_revision=stale)
    with as_member("support") as support, pytest.raises(services.Conflict):
        services.save_preferences(support, "kestrel", _wishes(), base_revision=stale)
    assert Preferences.objects.get(process__code="kestrel").rhythm == "never"


def test_a_choice_not_in_the_list_is_refused_on_the_web_and_changes_nothing(client_for):
    client = client_for("survivor")
    before = database_state()
    form = {"rhythm": "weekly", "through": "directly", "taking_part": "big", "revision": "1"}
    answer = client.post("/p/kestrel/survivor/preferences/", form)
    assert answer.status_code == 400
    assert "Choose one of the answers in the list." in answer.content.decode()
    assert database_state() == before


def test_the_preferences_page_saves_and_shows_what_was_chosen(client_for):
    client = client_for("survivor")
    form = {
        "rhythm": "on_request",
        "through": "support",
        "taking_part": "every",
        "avoid": "Details of the night itself.",
        "revision": str(_revision()),
    }
    assert client.post("/p/kestrel/survivor/preferences/", form).status_code == 302
    page = client.get("/p/kestrel/survivor/preferences/").content.decode()
    assert "Details of the night itself." in page
    assert re.search(r'value="every" id="[a-z_0-9]+" checked', page)
    prefs = Preferences.objects.get(process__code="kestrel")
    assert (prefs.rhythm, prefs.through, prefs.content_note) == ("on_request", "support", False)
    assert b"night itself" not in bytes(prefs.__dict__["avoid"])  # sealed


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"what": "my new city"}, "from_role"),
        (
            {"what": "my new city", "from_role": "community", "from_whom": "his partner"},
            "from_role",
        ),
        ({"what": "", "from_role": "community"}, "what"),
        ({"what": "my new city", "from_role": "survivor"}, "from_role"),
    ],
)
def test_a_withholding_names_what_and_one_role_or_person(as_member, fields, refused):
    before = Withholding.objects.count()
    with as_member("survivor") as survivor, pytest.raises(ValidationError) as error:
        services.add_withholding(survivor, "kestrel", **fields)
    assert refused in error.value.error_dict
    assert Withholding.objects.count() == before


def test_what_is_kept_from_the_community_group_stops_a_report_back_until_checked(as_member, people):
    from uphold.reports.services import release

    with as_member("survivor") as survivor:
        services.add_withholding(survivor, "kestrel", what="my new city", from_role="community")
    with as_member("contact") as contact:
        with pytest.raises(ValidationError):
            release(contact, "kestrel", "report-back", timezone.localdate())
        release(contact, "kestrel", "report-back", timezone.localdate(), checked=True)


def test_the_reports_page_shows_the_groups_what_the_survivors_side_asked(client_for):
    client = client_for("contact")
    back = client.get("/p/kestrel/reports/?kind=report-back").content.decode()
    assert MARK + "survivor.withholding.what" in back
    assert MARK + "survivor.withholding.from_whom" in back
    update = client.get("/p/kestrel/reports/?kind=survivor-update").content.decode()
    assert MARK + "survivor.preferences.avoid" in update


def test_an_item_asked_for_is_released_as_a_copy_the_survivor_reads(
    client_for, as_member, accounts
):
    from uphold.record.models import Entry

    with as_member("survivor") as survivor:
        asked = services.ask_for_item(survivor, "kestrel", "His answer of last week.")
    entry = Entry.objects.filter(process__code="kestrel").order_by("pk").first()
    with as_member("contact") as contact:
        copy = services.release_item(contact, "kestrel", asked.pk, entry_id=entry.pk)
        with pytest.raises(ValidationError):  # answered once, not twice
            services.release_item(contact, "kestrel", asked.pk, entry_id=entry.pk)
    assert ItemRequest.objects.get(pk=asked.pk).state == "released"
    _user, ring = _acting(accounts["survivor"])
    with using(ring):
        assert MARK + "record.entry.summary" in ReleasedItem.objects.get(pk=copy.pk).text
        with pytest.raises(NoKey):
            Entry.objects.get(pk=entry.pk).text  # noqa: B018  (the record stays closed)
    page = client_for("survivor").get("/p/kestrel/survivor/").content.decode()
    assert MARK + "record.entry.summary" in page
    assert "Content note: this may hold his own words." in page


def test_only_the_contact_group_releases_an_item_and_only_one_of_this_process(as_member, people):
    from uphold.record import services as record

    with as_member("survivor") as survivor:
        asked = services.ask_for_item(survivor, "kestrel", "The minutes of the last meeting.")
    with as_member("support") as support, pytest.raises(PermissionDenied):
        services.release_item(support, "kestrel", asked.pk, entry_id=1)
    with as_member("contact") as contact:
        meeting = record.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=3),
            place="",
            attendees=[],
        )
        for item in ({"meeting_id": meeting.pk}, {"entry_id": 10**9}, {}):
            with pytest.raises(ValidationError):  # no minutes; no such entry; nothing named
                services.release_item(contact, "kestrel", asked.pk, **item)
    assert ItemRequest.objects.get(pk=asked.pk).state == "open"


def test_a_declined_request_carries_the_reason_to_the_survivor(client_for, as_member):
    with as_member("survivor") as survivor:
        asked = services.ask_for_item(survivor, "kestrel", "Everything he wrote in 2019.")
    answer = client_for("contact").post(
        f"/p/kestrel/requests/{asked.pk}/decline/", {"answer": "Too raw; we can tell you more."}
    )
    assert answer.status_code == 302
    page = client_for("survivor").get("/p/kestrel/survivor/").content.decode()
    assert "Too raw; we can tell you more." in page and "not released" in page


def test_full_access_is_the_survivors_choice_and_ends_at_once(people, accounts, as_member):
    from uphold.crypto.models import SealedScopeKey
    from uphold.processes import services as processes
    from uphold.processes.models import Membership

    with as_member("support") as support, pytest.raises(PermissionDenied):
        services.set_full_access(support, "kestrel", True)
    with as_member("survivor") as survivor:
        services.set_full_access(survivor, "kestrel", True)
    theirs = Membership.objects.get(process__code="kestrel", role="survivor")
    assert theirs.survivor_full_access
    from uphold.crypto import services as crypto

    with as_member("support") as support:
        processes.grant_access(support, "kestrel", theirs.pk, crypto.fingerprint_of(theirs.user))
    record_keys = SealedScopeKey.objects.filter(user=theirs.user, scope_key__scope="record")
    assert record_keys.exists()
    with as_member("survivor") as survivor:
        services.set_full_access(survivor, "kestrel", False)
    assert not record_keys.exists()
    assert not Membership.objects.get(pk=theirs.pk).survivor_full_access


def _due(today: date) -> list:
    from uphold.processes.models import Process

    process = Process.objects.get(code="kestrel")
    return [
        r for r in reminders.occasions(process, today) if r.kind == ReminderKind.SURVIVOR_UPDATE
    ]


@pytest.mark.parametrize(
    ("rhythm", "after", "due"),
    [
        ("monthly", 29, False),
        ("monthly", 30, True),
        ("quarterly", 60, False),
        ("quarterly", 91, True),
        ("never", 400, False),
        ("on_request", 400, False),
    ],
)
def test_the_update_reminder_follows_the_rhythm_they_chose(as_member, rhythm, after, due):
    with as_member("survivor") as survivor:
        services.save_preferences(
            survivor, "kestrel", _wishes(rhythm=rhythm), base_revision=_revision()
        )
    last = ReleasedReport.objects.filter(process__code="kestrel", kind="survivor-update")
    released_on = timezone.localtime(last.latest("released_at").released_at).date()
    assert bool(_due(released_on + timedelta(days=after))) is due


def test_the_update_reminder_goes_to_both_groups(people):
    from uphold.processes.models import Process

    for role in ("support", "contact", "survivor"):
        people[role].email = f"{role}@example.org"
        people[role].save(update_fields=["email"])
    process = Process.objects.get(code="kestrel")
    got = {u.email for u in reminders.recipients(process, ReminderKind.SURVIVOR_UPDATE)}
    assert got == {"support@example.org", "contact@example.org"}
    assert {u.email for u in reminders.recipients(process)} == {"contact@example.org"}


def test_the_content_note_follows_their_setting(as_member):
    from uphold.reports.services import export

    for note in (True, False):
        with as_member("survivor") as survivor:
            services.save_preferences(
                survivor, "kestrel", _wishes(content_note=note), base_revision=_revision()
            )
        with as_member("support") as support:
            text = export(support, "kestrel", "survivor-update", "md", timezone.localdate())
        assert ("**Content note:**" in text.content.decode()) is note


def test_updates_only_through_the_support_group_are_not_shown_to_the_survivor(
    as_member, client_for
):
    with as_member("survivor") as survivor:
        services.save_preferences(
            survivor, "kestrel", _wishes(through="support"), base_revision=_revision()
        )
    mine = client_for("survivor").get("/p/kestrel/survivor/").content.decode()
    assert "only through your support group" in mine
    assert MARK + "reports.releasedreport.text" not in mine
    theirs = client_for("support").get("/p/kestrel/survivor/").content.decode()
    assert MARK + "reports.releasedreport.text" in theirs


def test_a_release_tells_the_survivor_only_if_they_chose_to_hear_directly(
    as_member, people, smtp_server, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    from uphold.reports.services import release

    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    people["survivor"].email = "survivor@example.org"
    people["survivor"].save(update_fields=["email"])
    for through, told in (("support", False), ("directly", True)):
        smtp_server.messages.clear()
        with as_member("survivor") as survivor:
            services.save_preferences(
                survivor, "kestrel", _wishes(through=through), base_revision=_revision()
            )
        with as_member("support") as support, django_capture_on_commit_callbacks(execute=True):
            release(support, "kestrel", "survivor-update", timezone.localdate())
        call_command("worker", batch=True, startup_delay=False, verbosity=0, remind_every=0)
        sent = [
            m
            for to, m in smtp_server.messages
            if to == ["survivor@example.org"] and "an update for you" in m["Subject"]
        ]
        assert bool(sent) is told, through
        for message in sent:
            assert MARK not in message.as_string() and "kestrel" in message["Subject"]


def test_a_stale_preferences_form_keeps_the_choices_and_says_why(client_for, as_member):
    client = client_for("support")
    stale = _revision()
    with as_member("survivor") as survivor:
        services.save_preferences(survivor, "kestrel", _wishes(), base_revision=stale)
    form = {"rhythm": "never", "through": "directly", "taking_part": "big"}
    answer = client.post("/p/kestrel/survivor/preferences/", form | {"revision": str(stale)})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "nothing was saved" in page
    assert re.search(r'value="never" id="[a-z_0-9]+" checked', page)
    assert f'name="revision" value="{stale + 1}"' in page


@pytest.mark.tampers
def test_full_access_set_in_the_database_is_no_choice_and_gives_no_key(people, as_member):
    from uphold.crypto import services as crypto
    from uphold.crypto.models import SealedScopeKey
    from uphold.processes import scopes
    from uphold.processes import services as processes
    from uphold.processes.models import Membership

    Membership.objects.filter(process__code="kestrel", role="survivor").update(
        survivor_full_access=True
    )
    theirs = Membership.objects.get(process__code="kestrel", role="survivor")
    assert scopes.RECORD not in scopes.scopes_of(theirs)
    with as_member("support") as support:
        processes.grant_access(support, "kestrel", theirs.pk, crypto.fingerprint_of(theirs.user))
    assert not SealedScopeKey.objects.filter(user=theirs.user, scope_key__scope="record").exists()


def test_a_number_too_large_for_any_row_is_refused_not_a_crash(client_for, as_member):
    with as_member("survivor") as survivor:
        asked = services.ask_for_item(survivor, "kestrel", "His answer of last week.")
    client = client_for("contact")
    for field in ("entry", "meeting"):
        answer = client.post(f"/p/kestrel/requests/{asked.pk}/release/", {field: str(10**20)})
        assert answer.status_code == 400, field
    assert ItemRequest.objects.get(pk=asked.pk).state == "open"
