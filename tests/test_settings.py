"""A process's settings after it starts: each part belongs to the people it concerns.

The survivor's side chooses the words for the people involved; the contact group sets how
often to meet him and when to remind; each group says where it is itself.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from uphold.audit.models import AuditEvent
from uphold.audit.services import verify
from uphold.processes.models import Process, ProcessGroup
from uphold.processes.services import Conflict, add_group, change_group, change_settings

from .conftest import database_state

URL = reverse("process-settings", args=["kestrel"])


def events(kind: str = "change") -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(process__code="kestrel", kind=kind)
        .order_by("seq")
        .values_list("object_type", "object_id")
    )


def kestrel() -> Process:
    return Process.objects.get(code="kestrel")


def support_group() -> ProcessGroup:
    return ProcessGroup.objects.get(process__code="kestrel", kind="support")


# Who may change what


@pytest.mark.parametrize("role", ["survivor", "support"])
def test_the_survivors_side_chooses_the_words(as_member, role):
    before = events()
    with as_member(role) as user:
        changed = change_settings(user, "kestrel", survivor_term="victim", respondent_term="Y")
        assert sorted(changed) == ["respondent_term", "survivor_term"]
        process = kestrel()
        assert (process.survivor_term, process.respondent_term) == ("victim", "Y")
    assert events() == [*before, ("processes.process", str(process.pk))]
    assert verify(process) is None


@pytest.mark.parametrize("role", ["contact", "community", "respondent"])
def test_no_one_else_changes_the_words(as_member, role):
    before = database_state()
    with as_member(role) as user, pytest.raises(PermissionDenied):
        change_settings(user, "kestrel", survivor_term="victim")
    assert database_state() == before


def test_the_contact_group_sets_meetings_and_reminders(as_member):
    before = events()
    with as_member("contact") as user:
        change_settings(
            user, "kestrel", meeting_every_months=4, reply_reminder_days=30, step_overdue_days=3
        )
    process = kestrel()
    assert (process.meeting_every_months, process.reply_reminder_days) == (4, 30)
    assert process.step_overdue_days == 3
    assert events() == [*before, ("processes.process", str(process.pk))]
    assert verify(process) is None


@pytest.mark.parametrize("role", ["survivor", "support", "community", "respondent"])
def test_no_one_else_sets_meetings_and_reminders(as_member, role):
    before = database_state()
    with as_member(role) as user, pytest.raises(PermissionDenied):
        change_settings(user, "kestrel", meeting_every_months=6)
    assert database_state() == before


def test_a_change_that_reaches_into_another_roles_part_is_refused_whole(as_member):
    before = database_state()
    with as_member("contact") as user, pytest.raises(PermissionDenied):
        change_settings(user, "kestrel", meeting_every_months=6, survivor_term="victim")
    assert database_state() == before


@pytest.mark.parametrize("role", ["outsider", "admin"])
def test_the_process_does_not_exist_for_outsiders(people, role):
    with pytest.raises((Http404, PermissionDenied)):
        change_settings(people[role], "kestrel", meeting_every_months=6)


def test_saving_the_same_values_writes_no_event(as_member):
    before = database_state()
    with as_member("contact") as user:
        assert change_settings(user, "kestrel", meeting_every_months=3) == []
    assert database_state() == before


# Bad input


@pytest.mark.parametrize(
    ("role", "changes", "field"),
    [
        ("contact", {"meeting_every_months": 0}, "meeting_every_months"),
        ("contact", {"meeting_every_months": 25}, "meeting_every_months"),
        ("contact", {"reply_reminder_days": 366}, "reply_reminder_days"),
        ("contact", {"step_overdue_days": "soon"}, "step_overdue_days"),
        ("contact", {"step_overdue_days": True}, "step_overdue_days"),
        ("support", {"survivor_term": "   "}, "survivor_term"),
        ("support", {"respondent_term": "x" * 61}, "respondent_term"),
    ],
)
def test_bad_settings_explain_and_change_nothing(as_member, role, changes, field):
    before = database_state()
    with as_member(role) as user, pytest.raises(ValidationError) as refused:
        change_settings(user, "kestrel", **changes)
    assert field in refused.value.error_dict
    assert database_state() == before


def test_one_bad_value_stops_the_good_ones_too(as_member):
    before = database_state()
    with as_member("contact") as user, pytest.raises(ValidationError):
        change_settings(user, "kestrel", meeting_every_months=6, reply_reminder_days=0)
    assert database_state() == before


def test_an_unknown_setting_is_refused(as_member):
    with as_member("contact") as user, pytest.raises(ValidationError):
        change_settings(user, "kestrel", state="closed")


# Two members at once


def test_a_setting_changed_by_someone_else_meanwhile_is_a_conflict(as_member):
    with as_member("contact") as user:
        change_settings(user, "kestrel", meeting_every_months=4, seen={"meeting_every_months": 3})
    before = database_state()
    with as_member("contact") as user, pytest.raises(Conflict) as conflict:
        change_settings(user, "kestrel", meeting_every_months=6, seen={"meeting_every_months": 3})
    assert conflict.value.names == ["meeting_every_months"]
    assert database_state() == before
    assert kestrel().meeting_every_months == 4


def test_a_setting_left_alone_does_not_conflict(as_member):
    """Another member changed the rhythm; a reminder threshold saved from an older page stays."""
    with as_member("contact") as user:
        change_settings(user, "kestrel", meeting_every_months=4)
        change_settings(
            user,
            "kestrel",
            meeting_every_months=3,
            reply_reminder_days=30,
            seen={"meeting_every_months": 3, "reply_reminder_days": 21},
        )
    assert (kestrel().meeting_every_months, kestrel().reply_reminder_days) == (4, 30)


# The groups taking part


def test_the_support_group_changes_where_it_is(as_member):
    group = support_group()
    before = events()
    with as_member("support") as user:
        changed = change_group(
            user, "kestrel", group.pk, place="Leipzig", time_zone="Europe/Berlin"
        )
        assert changed == ["place"]
        assert support_group().place == "Leipzig"
    assert events() == [*before, ("processes.processgroup", str(group.pk))]
    assert verify(kestrel()) is None


@pytest.mark.parametrize("role", ["contact", "survivor", "community", "respondent"])
def test_no_one_else_changes_the_support_groups_row(as_member, role):
    before = database_state()
    with as_member(role) as user, pytest.raises(PermissionDenied):
        change_group(user, "kestrel", support_group().pk, place="Nowhere", time_zone="UTC")
    assert database_state() == before


def test_the_contact_group_adds_its_own_row_once(as_member):
    with as_member("contact") as user:
        group = add_group(user, "kestrel", place="Glasgow", time_zone="Europe/London")
        assert (group.kind, ProcessGroup.objects.get(pk=group.pk).place) == ("contact", "Glasgow")
        assert events("create")[-1] == ("processes.processgroup", str(group.pk))
        with pytest.raises(ValidationError):
            add_group(user, "kestrel", place="Edinburgh", time_zone="Europe/London")
    assert ProcessGroup.objects.filter(process__code="kestrel", kind="contact").count() == 1


@pytest.mark.parametrize("role", ["survivor", "community", "respondent"])
def test_members_outside_the_groups_add_no_group(as_member, role):
    before = database_state()
    with as_member(role) as user, pytest.raises(PermissionDenied):
        add_group(user, "kestrel", place="Somewhere", time_zone="UTC")
    assert database_state() == before


@pytest.mark.parametrize(
    ("place", "zone", "field"),
    [
        ("Berlin", "Mars/Olympus", "time_zone"),
        ("Berlin", "", "time_zone"),
        ("x" * 101, "UTC", "place"),
    ],
)
def test_a_bad_group_setting_explains_and_changes_nothing(as_member, place, zone, field):
    before = database_state()
    with as_member("support") as user, pytest.raises(ValidationError) as refused:
        change_group(user, "kestrel", support_group().pk, place=place, time_zone=zone)
    assert field in refused.value.error_dict
    assert database_state() == before


@pytest.mark.tampers  # puts a group row into another process directly
def test_a_group_of_another_process_is_not_found(as_member):
    other = ProcessGroup.objects.create(
        process=Process.objects.get(code="heron"), kind="support", time_zone="UTC"
    )
    with as_member("support") as user, pytest.raises(Http404):
        change_group(user, "kestrel", other.pk, place="", time_zone="UTC")


def test_a_place_changed_by_someone_else_meanwhile_is_a_conflict(as_member):
    group = support_group()
    with as_member("support") as user:
        change_group(user, "kestrel", group.pk, place="Leipzig", time_zone="Europe/Berlin")
        before = database_state()
        seen = {"place": "MARKER-7f3a-processes.processgroup.place", "time_zone": "Europe/Berlin"}
        with pytest.raises(Conflict):
            change_group(
                user, "kestrel", group.pk, place="Dresden", time_zone="Europe/Berlin", seen=seen
            )
    assert database_state() == before


# The page


def test_each_role_sees_only_its_own_sections(client_for):
    pages = {role: client_for(role).get(URL) for role in ("survivor", "support", "contact")}
    assert all(page.status_code == 200 for page in pages.values())
    text = {role: page.content.decode() for role, page in pages.items()}
    assert 'name="words-survivor_term"' in text["survivor"]
    assert "rhythm-" not in text["survivor"] and "group-" not in text["survivor"]
    assert 'name="words-survivor_term"' in text["support"]
    assert 'name="group-place"' in text["support"] and "rhythm-" not in text["support"]
    assert 'name="rhythm-meeting_every_months"' in text["contact"]
    assert 'name="group-place"' in text["contact"] and "words-" not in text["contact"]
    assert "Add your group" in text["contact"] and "Add your group" not in text["support"]


@pytest.mark.parametrize(("role", "status"), [("community", 403), ("respondent", 403)])
def test_other_roles_cannot_open_the_page(client_for, role, status):
    assert client_for(role).get(URL).status_code == status


def test_the_overview_links_to_the_settings_for_those_who_may_use_them(client_for):
    overview = reverse("process", args=["kestrel"])
    for role in ("survivor", "support", "contact", "community", "respondent"):
        page = client_for(role).get(overview).content.decode()
        assert (URL in page) == (role in {"survivor", "support", "contact"}), role


def words(survivor="victim", respondent="X", **extra) -> dict:
    return {
        "section": "words",
        "words-survivor_term": survivor,
        "words-respondent_term": respondent,
        "words-seen_survivor_term": "MARKER-7f3a-processes.process.survivor_term",
        "words-seen_respondent_term": "MARKER-7f3a-processes.process.respondent_term",
    } | extra


def rhythm(months="3", reply="21", late="7", **extra) -> dict:
    return {
        "section": "rhythm",
        "rhythm-meeting_every_months": months,
        "rhythm-reply_reminder_days": reply,
        "rhythm-step_overdue_days": late,
        "rhythm-seen_meeting_every_months": "3",
        "rhythm-seen_reply_reminder_days": "21",
        "rhythm-seen_step_overdue_days": "7",
    } | extra


def test_the_survivor_renames_themselves_and_the_overview_says_so(client_for):
    client = client_for("survivor")
    response = client.post(URL, words(survivor="the person harmed"))
    assert response.status_code == 302 and response["Location"] == URL
    assert "Saved." in client.get(URL).content.decode()
    overview = client.get(reverse("process", args=["kestrel"])).content.decode()
    assert "the person harmed" in overview


def test_the_contact_group_saves_the_rhythm_on_the_page(client_for):
    response = client_for("contact").post(URL, rhythm(months="6"))
    assert response.status_code == 302
    assert kestrel().meeting_every_months == 6


def test_the_contact_group_adds_its_group_on_the_page(client_for, as_member):
    client = client_for("contact")
    form = {
        "section": "group",
        "group-place": "Glasgow",
        "group-time_zone": "Europe/London",
        "group-seen_place": "",
        "group-seen_time_zone": "",
    }
    assert client.post(URL, form).status_code == 302
    with as_member("contact"):
        group = ProcessGroup.objects.get(process__code="kestrel", kind="contact")
        assert (group.place, group.time_zone) == ("Glasgow", "Europe/London")
    # The same form again, from a page that still showed no group: the group is there now.
    again = client.post(URL, form | {"group-place": "Edinburgh"})
    assert again.status_code == 400
    assert "Another member changed this" in again.content.decode()


BAD = {
    "en": {
        "empty word": (words(survivor=""), "Write the word this process uses."),
        "months": (rhythm(months="30"), "Choose a whole number from 1 to 24."),
        "days": (rhythm(reply="0"), "Choose a whole number from 1 to 365."),
        "time zone": (
            {"section": "group", "group-place": "Berlin", "group-time_zone": "Mars/Olympus"},
            "Choose a time zone from the list.",
        ),
        "no section": ({}, "Nothing was saved: the form arrived incomplete."),
    },
    "de": {
        "empty word": (words(survivor=""), "Schreib das Wort, das dieser Prozess verwendet."),
        "months": (rhythm(months="30"), "Wähle eine ganze Zahl von 1 bis 24."),
        "days": (rhythm(reply="0"), "Wähle eine ganze Zahl von 1 bis 365."),
        "time zone": (
            {"section": "group", "group-place": "Berlin", "group-time_zone": "Mars/Olympus"},
            "Wähle eine Zeitzone aus der Liste.",
        ),
        "no section": ({}, "Nichts wurde gespeichert: Das Formular kam unvollständig an."),
    },
}
BAD_CASES = [
    (language, name, *case) for language, cases in BAD.items() for name, case in cases.items()
]


@pytest.mark.parametrize(("language", "name", "form", "message"), BAD_CASES)
def test_bad_input_on_the_page_answers_400_with_the_reason(
    client_for, language, name, form, message
):
    role = "contact" if name in {"months", "days"} else "support"
    client = client_for(role, HTTP_ACCEPT_LANGUAGE=language)
    before = database_state()
    response = client.post(URL, form)
    assert response.status_code == 400, name
    assert message in response.content.decode(), name
    assert database_state() == before


def test_a_section_of_another_role_is_refused_on_the_page(client_for):
    contact, survivor = client_for("contact"), client_for("survivor")
    before = database_state()
    assert contact.post(URL, words()).status_code == 403
    assert survivor.post(URL, rhythm(months="6")).status_code == 403
    assert database_state() == before


def test_two_members_saving_the_same_setting_get_a_clear_answer(client_for):
    first, second = client_for("contact"), client_for("contact")
    assert first.post(URL, rhythm(months="4")).status_code == 302
    before = database_state()
    late = second.post(URL, rhythm(months="6"))
    page = late.content.decode()
    assert late.status_code == 400
    assert "Another member changed this while you were working on it" in page
    assert database_state() == before
    # The page now knows what is stored: saving again applies the second member's value.
    assert 'name="rhythm-seen_meeting_every_months" value="4"' in page
    again = second.post(URL, rhythm(months="6", **{"rhythm-seen_meeting_every_months": "4"}))
    assert again.status_code == 302
    assert kestrel().meeting_every_months == 6


# When the process began: a group bringing its history says so, either group may.


def began(day: str, seen: str = "", **extra) -> dict:
    return {"section": "began", "began-started_on": day, "began-seen_started_on": seen} | extra


@pytest.mark.parametrize("role", ["support", "contact"])
def test_either_group_says_when_the_process_began(client_for, role):
    client = client_for(role)
    before = events()
    assert client.post(URL, began("2016-01-15")).status_code == 302
    process = kestrel()
    assert str(process.started_on) == "2016-01-15"
    assert events() == [*before, ("processes.process", str(process.pk))]
    overview = client.get(reverse("process", args=["kestrel"])).content.decode()
    assert "Began" in overview and "Kept in Uphold since" in overview
    assert "15 Jan 2016" in overview
    assert verify(process) is None
    # Emptied again, the process began the day it was started in Uphold.
    assert client.post(URL, began("", seen="2016-01-15")).status_code == 302
    assert kestrel().started_on is None
    assert (
        "Kept in Uphold since"
        not in client.get(reverse("process", args=["kestrel"])).content.decode()
    )


@pytest.mark.parametrize("role", ["survivor", "community", "respondent"])
def test_no_one_else_says_when_it_began(as_member, role):
    before = database_state()
    with as_member(role) as user, pytest.raises(PermissionDenied):
        change_settings(user, "kestrel", started_on="2016-01-15")
    assert database_state() == before


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2999-01-01", "A process begins on a day that has come."),
        ("1999-12-31", "That is before 2000. Check the year."),
        ("15.01.2016", "Enter a date, such as 2016-01-15."),
        ("2016-02-30", "Enter a date, such as 2016-01-15."),
    ],
)
def test_a_day_it_cannot_have_begun_on_is_refused(client_for, as_member, day, message):
    client = client_for("support")
    before = database_state()
    response = client.post(URL, began(day))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before
    with as_member("contact") as user:
        before = database_state()
        with pytest.raises(ValidationError) as refused:
            change_settings(user, "kestrel", started_on=day)
    assert message in str(refused.value)
    assert database_state() == before
