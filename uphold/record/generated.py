"""The content of a generated process (`uphold generate`): years of a contact group's work with
silences, meetings held and missed, steps of both owners and a demand changed, written through
the services exactly as members would, so tests, benchmarks and demos share one source.

Entries are spread over up to four and a half years (the report's length), a few a week at
the report's pace and several a day for a process with its mail imported. Two or three long
silences fall in it: X writes nothing then, and the meetings planned in them he misses.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from uphold.accounts.models import User
from uphold.demands import sample as demands_sample
from uphold.demands import services as demands
from uphold.demands.models import Demand
from uphold.people import services as people
from uphold.processes.queries import meeting_zone

from . import services
from .models import Meeting
from .services import EntryData, StepData

LONGEST = 1650  # days: about four and a half years
TO_X = [
    "Email asking when he can meet",
    "Reminder: the demands still stand",
    "Email with the minutes of the last meeting",
    "Asked again for his reflections",
    "Email about a perpetrator programme",
]
FROM_X = [
    "He says he will reply soon",
    "He asks the group to choose a programme for him",
    "A few sentences asking to meet face to face",
    "He says the last years were hard enough for him",
    "He sends a short reflection",
]
TO_CIRCLE = [
    "Email to people around him asking them to support the demands",
    "Answered a friend's questions about the process",
]
NOTES = ["Contact group call: next steps", "Note on how the last exchange went"]
STEPS_X = ["Tell his new political group himself", "Send his reflections by email"]
STEPS_GROUP = ["Send him the list of programmes", "Write to the survivor's side about progress"]


@dataclass
class Plan:
    start: date
    silences: list[tuple[date, date]]

    def silent(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.silences)


def plan_for(entries: int, today: date, rng: random.Random) -> Plan:
    span = max(60, min(LONGEST, entries // 2))
    start = today - timedelta(days=span)
    silences = []
    for _ in range(rng.choice([2, 3])):
        length = rng.randint(span // 12, span // 5)
        first = start + timedelta(days=rng.randint(span // 10, span - length - 1))
        silences.append((first, first + timedelta(days=length)))
    return Plan(start, silences)


def fill_demands(code: str, support: User) -> None:
    """The report's letter and demands, and demand 3 made firmer once (a second version)."""
    demands_sample.fill_as_support(code, support)
    demand = Demand.objects.get(process__code=code, number=3)
    demands.propose_change(
        support, code, 3,
        wording=demand.wording, reasons=demand.reasons,
        criteria=demand.criteria + "\nHe tells the group when he moves city or group",
        why="He moved city without telling anyone.", softer=False,
        base_revision=demand.revision, apply_now=True,
    )  # fmt: skip


PEOPLE = [
    ("person", "partner", "His partner"), ("person", "friend", "A close friend"),
    ("person", "family", "His brother"), ("circle", "political_group", "The new political group"),
    ("circle", "housing_project", "The housing project"), ("circle", "workplace", "His workplace"),
    ("person", "sexual_partner", "A new partner"), ("circle", "scene", "The local scene"),
]  # fmt: skip


def fill_people(code: str, contact: User, count: int, plan: Plan, rng: random.Random) -> list:
    """People and circles around him; the group informs some (often only at the top), he
    informs few, and some friends stay "neutral"."""
    made = people.add_people(
        contact,
        code,
        [
            people.PersonData(kind=kind, relation=relation, name=f"{name} {i + 1}")
            for i, (kind, relation, name) in enumerate(
                PEOPLE[i % len(PEOPLE)] for i in range(count)
            )
        ],
    )
    span = (timezone.localdate() - plan.start).days
    for person in made:
        roll = rng.random()
        day = plan.start + timedelta(days=rng.randint(0, span))
        if roll < 0.6:
            by = "respondent" if roll < 0.15 else "group"
            reach = (
                rng.choice(["leaders", "leaders", "part", "everyone"]) if person.is_circle else ""
            )
            people.add_informing(
                contact, code, person.pk, people.InformingData(on=day, by=by, reach=reach)
            )
        if rng.random() < 0.5:
            stance = rng.choice(["neutral", "neutral", "supports", "hostile"])
            people.change_stance(contact, code, person.pk, people.StanceData(on=day, stance=stance))
    return [person.pk for person in made]


def fill_record(code: str, contact: User, entries: int, rng: random.Random) -> None:
    today = timezone.localdate()
    plan = plan_for(entries, today, rng)
    around = fill_people(code, contact, min(60, 3 + entries // 100), plan, rng)
    span = (today - plan.start).days
    days = sorted(plan.start + timedelta(days=rng.randint(0, span)) for _ in range(entries))
    meetings = sorted(
        plan.start + timedelta(days=rng.randint(30, span - 1))
        for _ in range(max(2, min(entries // 25, span // 30)))
    )
    zone = meeting_zone(contact.memberships.get(process__code=code).process)
    written, waiting = 0, []
    for day in days:
        while meetings and meetings[0] <= day and written < entries:
            services.add_entries(contact, code, waiting)  # in order: the meeting comes after
            waiting = []
            first = not Meeting.objects.filter(process__code=code).exists()
            written += _meeting(code, contact, meetings.pop(0), plan, zone, today, rng, first)
        if written >= entries:
            break
        entry = _entry(day, plan, rng)
        if entry.direction == "to_circle":
            entry.around = [rng.choice(around)]
        waiting.append(entry)
        written += 1
    services.add_entries(contact, code, waiting)
    soon = today + timedelta(days=rng.randint(5, 40))
    services.plan_meeting(
        contact, code, planned_at=datetime.combine(soon, time(18, 0), tzinfo=zone),
        place="The usual room", attendees=[contact],
    )  # fmt: skip


def _entry(day: date, plan: Plan, rng: random.Random) -> EntryData:
    roll = rng.random()
    if plan.silent(day) and 0.45 <= roll < 0.7:
        roll = 0.1  # X writes nothing in a silence; the group writes on
    if roll < 0.45:
        silent = plan.silent(day)
        return EntryData(
            occurred_on=day, kind="message", direction="to_x", channel="email",
            summary=rng.choice(TO_X), tags=["no_reply"] if silent and rng.random() < 0.3 else [],
        )  # fmt: skip
    if roll < 0.7:
        tags = [rng.choice(["self_victimisation", "shifting", "minimising"])]
        return EntryData(
            occurred_on=day, kind="message", direction="from_x", channel="email",
            summary=rng.choice(FROM_X), tags=tags if rng.random() < 0.2 else [],
            demand_numbers=[1] if rng.random() < 0.3 else [],
        )  # fmt: skip
    if roll < 0.85:
        return EntryData(
            occurred_on=day, kind="message", direction="to_circle", channel="email",
            summary=rng.choice(TO_CIRCLE),
        )  # fmt: skip
    return EntryData(occurred_on=day, kind="note", summary=rng.choice(NOTES))


def _meeting(code, contact, day, plan, zone, today, rng, first: bool) -> int:
    """A past meeting: the first held (as in the report), later ones missed in a silence and
    mostly held outside one, each held one with a step for him and one for the group."""
    held = first or (not plan.silent(day) and rng.random() < 0.75)
    steps = []
    if held:
        for owner in ("x", "group"):  # a step for him and one for the group, each meeting
            due = day + timedelta(days=rng.randint(20, 90))
            # He mostly misses his; the group mostly does its own.
            late = ["missed", "missed", "done"] if owner == "x" else ["done", "done", "missed"]
            status = "open" if due >= today else rng.choice(late)
            what = rng.choice(STEPS_X if owner == "x" else STEPS_GROUP)
            steps.append(StepData(owner, what, due, rng.choice([1, 2, 3]), status=status))
    services.record_past_meeting(
        contact, code,
        held_at=datetime.combine(day, time(18, 30), tzinfo=zone),
        outcome="held" if held else "no_show",
        attendees=[contact],
        minutes="We went through the demands." if held else "He did not come.",
        steps=steps,
    )  # fmt: skip
    return 1  # its log entry
