# ruff: noqa: E501  (the history reads best one event per line)
"""The report's contact work as a log, for the demo (see ../shared/seed-timeline.md).

Dates the report gives loosely are approximate. The meetings lie in the past, so they are log
entries; one meeting is planned ahead by the process rhythm.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from uphold.accounts.models import User

from . import services
from .services import EntryData, StepData

MESSAGE, HELD, MISSED, TALK = "message", "meeting_held", "meeting_missed", "conversation"
HISTORY = [
    (date(2016, 1, 15), MESSAGE, "to_x", "First email: the contact group takes over from Berlin", []),
    (date(2016, 1, 20), MESSAGE, "to_circle", "Emails to his partner and people around him, asking them to support the demands", []),
    (date(2016, 1, 25), MESSAGE, "from_x", "He acknowledges and says he will reply soon", []),
    (date(2016, 3, 10), MESSAGE, "to_x", "Still waiting for an answer: a reminder", ["no_reply"]),
    (date(2016, 4, 20), MESSAGE, "to_circle", "Asked people around him to get him in touch", []),
    (date(2016, 6, 25), MESSAGE, "from_x", "First real reply: a few sentences asking to meet face to face", []),
    (date(2017, 1, 21), HELD, "none", "First meeting: intermediate actions agreed, and to meet every three months", ["agreement"]),
    (date(2017, 1, 21), TALK, "to_circle", "Talks with his partner and a friend of theirs, and with two close friends", []),
    (date(2017, 4, 22), HELD, "none", "Second meeting: he has informed no one himself", []),
    (date(2017, 9, 15), HELD, "none", "Smaller meeting at his request: he will not share his reflections and asks the group to pick a programme for him", ["renegotiation", "shifting"]),
    (date(2017, 12, 9), MISSED, "none", "He did not come; a member travelled to the agreed place anyway", ["no_reply"]),
    (date(2018, 2, 1), MESSAGE, "to_x", "Email asking for the next meeting", ["no_reply"]),
    (date(2018, 5, 1), MESSAGE, "to_x", "Email asking for the next meeting, again", ["no_reply"]),
    (date(2018, 8, 20), MESSAGE, "from_x", "He says he is now ready to talk", []),
    (date(2018, 11, 10), MISSED, "none", "He did not come; members' offers to talk go unanswered", ["no_reply"]),
    (date(2019, 3, 1), MESSAGE, "to_x", "Email: the demands still stand", ["no_reply"]),
    (date(2019, 7, 1), MESSAGE, "to_x", "Email: the demands still stand", ["no_reply"]),
    (date(2019, 11, 15), MESSAGE, "from_x", "He declares perpetrator programmes unsuitable for him: he is different from the others, and the last years were hard enough for him", ["self_victimisation", "denial"]),
    (date(2019, 11, 30), MESSAGE, "to_x", "The group replies why it disagrees", []),
]  # fmt: skip


def fill_record(code: str, contact: User) -> None:
    for when, kind, direction, summary, tags in HISTORY:
        services.add_entry(
            contact,
            code,
            EntryData(
                occurred_on=when,
                kind=kind,
                direction=direction,
                channel="email" if kind == MESSAGE else "in_person",
                by=contact,
                summary=summary,
                tags=tags,
                demand_numbers=[1] if "shifting" in tags or "denial" in tags else [],
            ),
        )
    step = services.add_step(
        contact,
        code,
        StepData("x", "Research perpetrator programmes himself and tell the group which one", date(2017, 10, 31), 1),
    )  # fmt: skip
    services.change_step(
        contact, code, step.pk, owner="x", status="missed", evidence="Two years later he refused all programmes.",
        reason="", owner_seen="x", status_seen="open",
    )  # fmt: skip
    services.add_step(
        contact,
        code,
        StepData("group", "Give DVIP a way to reach the survivor's side", date(2017, 11, 15), 1),
    )
    soon = timezone.localdate() + timedelta(days=10)
    services.plan_meeting(
        contact,
        code,
        planned_at=timezone.make_aware(datetime.combine(soon, time(18, 0))),
        place="Community centre, Glasgow (room 2)",
        attendees=[contact],
    )
