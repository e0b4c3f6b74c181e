"""Contact health, worked out from the log and never typed in.

Only clear columns are read (dates, directions, kinds, statuses), so the pages, the reports and
the worker, which holds no keys, all get the same answers.

- A reply from X is an entry from X, or a meeting held with him.
- A silence runs from the group's first message to X until his first reply, between two
  replies, and from his last reply until today (while the group is waiting for one).
- Reply time: for each reply, the days since the earliest message from the group he had not
  yet answered. Their median is given in whole days (half a day rounds up).
"""

from dataclasses import dataclass
from datetime import date
from statistics import median

from django.db.models import Count

from .models import Direction, Entry, EntryKind, Step, StepStatus


@dataclass(frozen=True)
class Health:
    last_reply_on: date | None
    waiting_from: date | None
    days_since_reply: int | None
    unanswered: int
    longest_silence: int | None
    median_reply_days: int | None
    meetings_held: int
    meetings_missed: int
    steps_done: int
    steps_missed: int
    steps_open: int
    last_entry_on: date | None

    def days_waiting(self, today: date) -> int | None:
        """Days since the group's earliest message X has not answered, if there is one."""
        return (today - self.waiting_from).days if self.waiting_from else None


def is_reply(direction: str, kind: str) -> bool:
    return direction == Direction.FROM_X or kind == EntryKind.MEETING_HELD


def compute(events: list[tuple[date, str, str]], steps: dict[str, int], today: date) -> Health:
    """`events` are (day, direction, kind) of every log entry; `steps` counts steps by status."""
    events = sorted(events, key=lambda e: e[0])  # stable: same-day entries keep their order
    silences: list[int] = []
    reply_days: list[int] = []
    waiting_from: date | None = None  # the earliest message X has not answered
    silence_from: date | None = None  # when the current silence began
    last_reply: date | None = None
    unanswered = 0
    for day, direction, kind in events:
        if is_reply(direction, kind):
            if silence_from is not None:
                silences.append((day - silence_from).days)
            if waiting_from is not None:
                reply_days.append((day - waiting_from).days)
            last_reply, silence_from, waiting_from, unanswered = day, day, None, 0
        elif direction == Direction.TO_X:
            if silence_from is None:
                silence_from = day
            if waiting_from is None:
                waiting_from = day
            unanswered += 1
    if silence_from is not None and unanswered:
        silences.append((today - silence_from).days)
    kinds = [kind for _day, _direction, kind in events]
    return Health(
        last_reply_on=last_reply,
        waiting_from=waiting_from,
        days_since_reply=(today - last_reply).days if last_reply else None,
        unanswered=unanswered,
        longest_silence=max(silences) if silences else None,
        median_reply_days=int(median(reply_days) + 0.5) if reply_days else None,
        meetings_held=kinds.count(EntryKind.MEETING_HELD),
        meetings_missed=kinds.count(EntryKind.MEETING_MISSED),
        steps_done=steps.get(StepStatus.DONE, 0),
        steps_missed=steps.get(StepStatus.MISSED, 0),
        steps_open=steps.get(StepStatus.OPEN, 0),
        last_entry_on=events[-1][0] if events else None,
    )


MEETING_KINDS = (EntryKind.MEETING_HELD, EntryKind.MEETING_MISSED)


def health_of(process, today: date) -> Health:
    """Two queries, no keys."""
    rows = list(
        Entry.objects.filter(process=process)
        .order_by("occurred_on", "pk")
        .values_list("occurred_on", "direction", "kind", "meeting")
    )
    # Each meeting counts once, however it was entered: a hand-written "meeting held/missed"
    # entry on a day whose meeting is recorded as a meeting is the same meeting.
    met_on = {row[0] for row in rows if row[3] is not None}
    events = [
        row[:3]
        for row in rows
        if not (row[2] in MEETING_KINDS and row[3] is None and row[0] in met_on)
    ]
    steps = dict(
        Step.objects.filter(process=process)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return compute(events, steps, today)
