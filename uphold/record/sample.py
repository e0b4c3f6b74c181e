# ruff: noqa: E501  (the history reads best one event per line)
"""The report's contact work as a log, for the demo (see ../shared/seed-timeline.md).

Dates the report gives loosely are approximate, and the whole story is moved to end in the
weeks before the demo is built (processes.sample.story_day). The meetings are entered after the
fact, with their minutes and the steps agreed at them; one meeting is planned ahead by the
process rhythm, and the group's own step after his refusal is overdue, so the demo's worker has
reminders to send.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from uphold.accounts.models import User
from uphold.people import sample as people_sample
from uphold.processes.queries import meeting_zone
from uphold.processes.sample import story_day

from . import services
from .models import Step
from .services import EntryData, StepData

MESSAGE, TALK = "message", "conversation"
HISTORY = [
    (date(2016, 1, 15), MESSAGE, "to_x", "First email: the contact group takes over from Berlin", []),
    (date(2016, 1, 20), MESSAGE, "to_circle", "Emails to his partner and people around him, asking them to support the demands", []),
    (date(2016, 1, 25), MESSAGE, "from_x", "He acknowledges and says he will reply soon", []),
    (date(2016, 3, 10), MESSAGE, "to_x", "Still waiting for an answer: a reminder", ["no_reply"]),
    (date(2016, 4, 20), MESSAGE, "to_circle", "Asked people around him to get him in touch", []),
    (date(2016, 6, 25), MESSAGE, "from_x", "First real reply: a few sentences asking to meet face to face", []),
    (date(2017, 1, 21), TALK, "to_circle", "Talks with his partner and a friend of theirs, and with two close friends", []),
    (date(2018, 2, 1), MESSAGE, "to_x", "Email asking for the next meeting", ["no_reply"]),
    (date(2018, 5, 1), MESSAGE, "to_x", "Email asking for the next meeting, again", ["no_reply"]),
    (date(2018, 8, 20), MESSAGE, "from_x", "He says he is now ready to talk", []),
    (date(2019, 3, 1), MESSAGE, "to_x", "Email: the demands still stand", ["no_reply"]),
    (date(2019, 7, 1), MESSAGE, "to_x", "Email: the demands still stand", ["no_reply"]),
    (date(2019, 11, 15), MESSAGE, "from_x", "He declares perpetrator programmes unsuitable for him: he is different from the others, and the last years were hard enough for him", ["self_victimisation", "denial"]),
    (date(2019, 11, 30), MESSAGE, "to_x", "The group replies why it disagrees", []),
]  # fmt: skip

# (day, outcome, minutes, steps agreed: (owner, what, due, demand, how it turned out))
MEETINGS = [
    (date(2017, 1, 21), "held", "First meeting, about a year after the first email. Intermediate actions agreed; meetings every three months; reflections by email requested.", [
        ("x", "Tell his new political group and his partner about the rape and the demands himself", date(2017, 4, 22), 2, "missed"),
        ("x", "Send his reflections on what he did by email", date(2017, 4, 22), 1, "missed"),
    ]),
    (date(2017, 4, 22), "held", "Second meeting. He has informed no one himself; he has talked about the rape with some of the people already told.", []),
    (date(2017, 9, 15), "held", "Smaller meeting with two members, at his request. He will not share his reflections and keeps asking the group to pick a programme for him. Agreed that he researches perpetrator programmes himself.", [
        ("x", "Research perpetrator programmes himself and tell the group which one", date(2017, 10, 31), 1, "open"),
        ("group", "Give DVIP a way to reach the survivor's side", date(2017, 11, 15), 1, "done"),
    ]),
    (date(2017, 12, 9), "no_show", "He did not come; a member travelled to the agreed place and time anyway.", []),
    (date(2018, 11, 10), "no_show", "He did not come; members' offers to talk went unanswered.", []),
]  # fmt: skip


def fill_record(code: str, contact: User) -> None:
    around = people_sample.add_people(code, contact)
    entry_on = {}
    for when, kind, direction, summary, tags in HISTORY:
        entry_on[when] = services.add_entry(
            contact,
            code,
            EntryData(
                occurred_on=story_day(when),
                kind=kind,
                direction=direction,
                channel="email" if kind == MESSAGE else "in_person",
                by=contact,
                summary=summary,
                tags=tags,
                demand_numbers=[1] if "shifting" in tags or "denial" in tags else [],
                around=[around[key] for key in people_sample.ENTRIES_ABOUT.get(when, [])],
            ),
        ).pk
    people_sample.add_history(code, contact, around, entry_on)
    zone = meeting_zone(contact.memberships.get(process__code=code).process)
    for day, outcome, minutes, steps in MEETINGS:
        services.record_past_meeting(
            contact,
            code,
            held_at=datetime.combine(story_day(day), time(18, 30), tzinfo=zone),
            outcome=outcome,
            attendees=[contact],
            minutes=minutes,
            steps=[
                StepData(owner, what, story_day(due), demand, status=status)
                for owner, what, due, demand, status in steps
            ],
        )
    programmes = Step.objects.get(process__code=code, due_on=story_day(date(2017, 10, 31)))
    services.change_step(
        contact, code, programmes.pk, owner="x", status="missed", evidence="Two years later he refused all programmes.",
        reason="", owner_seen="x", status_seen="open",
    )  # fmt: skip
    services.add_step(
        contact, code, StepData(
            "group", "Write to his new political group about the demands, since he has not",
            story_day(date(2019, 12, 14)), 2, agreed_on=story_day(date(2019, 11, 30)),
        ),
    )  # fmt: skip
    soon = timezone.localdate() + timedelta(days=10)
    services.plan_meeting(
        contact,
        code,
        planned_at=datetime.combine(soon, time(18, 0), tzinfo=zone),
        place="Community centre, Glasgow (room 2)",
        attendees=[contact],
    )
