"""A record a group can enter whole: meetings from before it used Uphold, with their minutes and
steps, counted once in contact health and listed with the planned ones."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from uphold.accounts.models import User
from uphold.accounts.services import acting_as
from uphold.crypto.keyring import Keyring, using
from uphold.crypto.services import unlock
from uphold.processes.models import Role
from uphold.processes.sample import build_process
from uphold.processes.services import Setup
from uphold.record import services
from uphold.record.health import health_of
from uphold.record.models import Entry, Meeting, Step
from uphold.record.services import EntryData, StepData
from uphold.web import once

from .conftest import database_state, log_in, with_token

GLASGOW = ZoneInfo("Europe/London")


def at(day: date, hour: int = 18, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=GLASGOW)


@pytest.fixture
def osprey(db):
    """A process whose contact group meets in Glasgow, entered after the fact."""
    setup = Setup(
        title="osprey",
        groups=[("support", "Berlin", "Europe/Berlin"), ("contact", "Glasgow", "Europe/London")],
    )
    accounts = build_process(
        "osprey", [("os-support", Role.SUPPORT), ("os-contact", Role.CONTACT)], setup=setup
    )
    contact = accounts[1]
    user = acting_as(User.objects.get(username=contact["username"]))
    with using(Keyring(user.pk, unlock(user, contact["password"]))):
        yield user, contact


# The report's history (../shared/seed-timeline.md), entered years later.
MESSAGES = [
    (date(2016, 1, 15), "to_x", []),
    (date(2016, 1, 25), "from_x", []),
    (date(2016, 3, 10), "to_x", ["no_reply"]),
    (date(2016, 6, 25), "from_x", []),
    (date(2018, 2, 1), "to_x", ["no_reply"]),
    (date(2018, 5, 1), "to_x", ["no_reply"]),
    (date(2018, 8, 20), "from_x", []),
    (date(2019, 3, 1), "to_x", ["no_reply"]),
    (date(2019, 7, 1), "to_x", ["no_reply"]),
    (date(2019, 11, 15), "from_x", ["self_victimisation"]),
    (date(2019, 11, 30), "to_x", []),
]
MEETINGS = [
    (date(2017, 1, 21), "held", "First meeting: quarterly meetings agreed.", 2),
    (date(2017, 4, 22), "held", "He has informed no one himself.", 0),
    (date(2017, 9, 15), "held", "He refuses to share his reflections.", 1),
    (date(2017, 12, 9), "no_show", "", 0),
    (date(2018, 11, 10), "no_show", "", 0),
]


def enter_history(user: User) -> list[Meeting]:
    for day, direction, tags in MESSAGES:
        services.add_entry(
            user,
            "osprey",
            EntryData(
                occurred_on=day, kind="message", direction=direction, summary="mail", tags=tags
            ),
        )
    meetings = []
    for day, outcome, minutes, n_steps in MEETINGS:
        steps = [
            StepData(
                owner="x",
                what=f"step {i} of {day}",
                due_on=day + timedelta(days=60),
                status="missed",
            )
            for i in range(n_steps)
        ]
        meetings.append(
            services.record_past_meeting(
                user,
                "osprey",
                held_at=at(day),
                outcome=outcome,
                attendees=[user],
                minutes=minutes,
                steps=steps,
            )
        )
    return meetings


def test_the_reports_history_entered_after_the_fact_gives_its_figures(osprey):
    user, _account = osprey
    meetings = enter_history(user)
    health = health_of(meetings[0].process, date(2020, 1, 1))
    assert (health.meetings_held, health.meetings_missed) == (3, 2)
    assert (health.steps_missed, health.steps_done, health.steps_open) == (3, 0, 0)
    # After "ready to talk" in August 2018 he missed a meeting and was silent until November
    # 2019 (a missed meeting is no contact); the silence after September 2017 was shorter.
    assert health.longest_silence == (date(2019, 11, 15) - date(2018, 8, 20)).days
    assert health.last_reply_on == date(2019, 11, 15)
    first = Meeting.objects.get(pk=meetings[0].pk)
    assert first.minutes == MEETINGS[0][2]
    assert first.entry.occurred_on == date(2017, 1, 21) and first.entry.kind == "meeting_held"
    steps = list(Step.objects.filter(meeting=first))
    assert len(steps) == 2 and all(s.agreed_on == date(2017, 1, 21) for s in steps)


def test_the_meetings_page_lists_every_meeting_past_and_planned(osprey, client):
    user, account = osprey
    enter_history(user)
    services.plan_meeting(
        user, "osprey", planned_at=timezone.now() + timedelta(days=30), place="", attendees=[]
    )
    log_in(client, user, account["password"])
    page = client.get(reverse("meetings", args=["osprey"])).content.decode()
    assert page.count('class="card"') == 6
    assert "No meetings yet" not in page
    assert "X did not come" in page and "planned" in page
    # The Glasgow group's 18:30 is shown as 18:30, whatever the member's own zone.
    assert "18:30" in page


def test_the_overview_gives_the_next_meeting_in_the_groups_zone_too(osprey, client):
    from datetime import datetime, time

    user, account = osprey
    day = timezone.localdate() + timedelta(days=30)
    glasgow = ZoneInfo("Europe/London")
    services.plan_meeting(
        user,
        "osprey",
        planned_at=datetime.combine(day, time(18, 0), tzinfo=glasgow),
        place="",
        attendees=[],
    )
    type(user).objects.filter(pk=user.pk).update(time_zone="Asia/Tokyo")
    log_in(client, user, account["password"])
    page = client.get(reverse("process", args=["osprey"])).content.decode()
    assert '18:00</a> <span class="meta">(Europe/London)</span>' in page


def test_a_meeting_already_in_the_log_counts_once(osprey):
    user, _account = osprey
    day = date(2017, 1, 21)
    by_hand = services.add_entry(
        user, "osprey", EntryData(occurred_on=day, kind="meeting_held", summary="met him")
    )
    meeting = services.record_past_meeting(user, "osprey", held_at=at(day), outcome="held")
    assert meeting.entry_id == by_hand.pk
    assert Entry.objects.filter(process=meeting.process, kind="meeting_held").count() == 1
    assert health_of(meeting.process, date(2018, 1, 1)).meetings_held == 1


def test_a_future_or_implausible_past_meeting_is_refused_and_changes_nothing(osprey):
    user, _account = osprey
    before = database_state()
    for held_at, outcome in [
        (timezone.now() + timedelta(days=2), "held"),
        (at(date(1999, 12, 31)), "held"),
        (at(date(2017, 1, 1)), "maybe"),
    ]:
        with pytest.raises(ValidationError):
            services.record_past_meeting(user, "osprey", held_at=held_at, outcome=outcome)
    with pytest.raises(ValidationError):
        services.record_past_meeting(
            user,
            "osprey",
            held_at=at(date(2017, 12, 9)),
            outcome="no_show",
            steps=[StepData(owner="x", what="a step", due_on=date(2018, 1, 1))],
        )
    with pytest.raises(ValidationError):  # due before it was agreed
        services.record_past_meeting(
            user,
            "osprey",
            held_at=at(date(2017, 12, 9)),
            outcome="held",
            steps=[StepData(owner="x", what="a step", due_on=date(2017, 1, 1))],
        )
    assert database_state() == before


def test_planning_ahead_still_refuses_a_past_date(osprey):
    user, _account = osprey
    with pytest.raises(ValidationError):
        services.plan_meeting(
            user, "osprey", planned_at=at(date(2017, 1, 21)), place="", attendees=[]
        )


def test_the_form_enters_a_past_meeting_in_the_groups_time_zone(osprey, client):
    user, account = osprey
    log_in(client, user, account["password"])
    response = client.post(
        reverse("meeting-past", args=["osprey"]),
        {
            "once": once.fresh(),
            "held_at": "2017-09-15T18:30",
            "outcome": "held",
            "x_expected": "on",
            "attendees": [str(user.pk)],
            "minutes": "Smaller meeting at his request.",
            "step-0-what": "Research perpetrator programmes",
            "step-0-owner": "x",
            "step-0-due_on": "2017-11-01",
            "step-0-status": "done",
            "step-1-owner": "x",
            "step-1-status": "open",
            "step-2-owner": "x",
            "step-2-status": "open",
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get(process__code="osprey")
    # 18:30 in Glasgow (BST in September) is 17:30 UTC, whatever the member's own zone.
    assert meeting.planned_at == datetime(2017, 9, 15, 17, 30, tzinfo=ZoneInfo("UTC"))
    step = Step.objects.get(meeting=meeting)
    assert (step.status, step.agreed_on) == ("done", date(2017, 9, 15))
    page = client.get(reverse("meeting", args=["osprey", meeting.pk])).content.decode()
    assert "18:30" in page and "Research perpetrator programmes" in page


# What a browser sends for the step rows left empty: the selects keep their first choice.
EMPTY_STEP_ROWS = {
    f"step-{i}-{name}": value
    for i in range(3)
    for name, value in [("owner", "x"), ("status", "open")]
}


def test_a_bad_past_meeting_form_answers_400_in_german(osprey, client):
    user, account = osprey
    log_in(client, user, account["password"])
    client.cookies["django_language"] = "de"
    before = database_state()
    response = client.post(
        reverse("meeting-past", args=["osprey"]),
        with_token({"held_at": "2099-01-01T10:00", "outcome": "held", **EMPTY_STEP_ROWS}),
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    assert "Plane ein Treffen" in response.content.decode()
    assert database_state() == before


def test_the_letter_and_its_later_wording_are_both_kept(db):
    """The letter written in 2015, handed out in Birmingham, reworded later: both wordings stay,
    and the one handed over to X stays marked."""
    from uphold.demands import services as demands
    from uphold.demands.models import LetterVersion

    setup = Setup(title="osprey", groups=[("support", "Berlin", "Europe/Berlin")])
    (support,) = build_process("osprey", [("os-support", Role.SUPPORT)], setup=setup)
    user = acting_as(User.objects.get(username="os-support"))
    with using(Keyring(user.pk, unlock(user, support["password"]))):
        demands.save_letter(
            user, "osprey", "We, the survivor and their support group…", base_revision=0
        )
        demands.mark_sent(
            user,
            "osprey",
            revision=1,
            handed_over_on=date(2015, 11, 1),
            handed_to="Handed out in Birmingham",
        )
        letter = demands.save_letter(
            user, "osprey", "A later wording of the letter.", base_revision=1
        )
        versions = list(LetterVersion.objects.filter(letter=letter).order_by("revision"))
        assert [v.revision for v in versions] == [1, 2]
        assert versions[0].sent and not versions[1].sent
        assert versions[0].texts(letter)[0].startswith("We, the survivor")
        assert letter.text == "A later wording of the letter."
