"""Contact health, worked out from the log and never typed in.

Only clear columns are read (dates, directions, kinds, statuses), so the pages, the reports and
the worker, which holds no keys, all get the same answers.

- A reply from X is an entry from X, or a meeting held with him.
- A silence runs from the group's first message to X until his first reply, between two
  replies, and from his last reply until today (while the group is waiting for one).
- Reply time: for each reply, the days since the earliest message from the group he had not
  yet answered. Their median is given in whole days (half a day rounds up).

The figures are folded from the log once, as entries are written (a Tally kept in HealthState),
so a page reads one row however long the log is. An entry added after the latest is folded in;
anything else (an entry dated earlier, an edit, a meeting) folds the whole log again. `uphold
verify` folds the log afresh and compares (`stored_differs`).
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Count

from .models import Direction, Entry, EntryKind, HealthState, Step, StepStatus

# A silence this long or longer is drawn on the timeline (the default reminder threshold is
# 21 days; two weeks without a reply is already worth seeing).
SHOWN_SILENCE_DAYS = 14


@dataclass(frozen=True)
class Health:
    last_reply_on: date | None
    waiting_from: date | None
    days_since_reply: int | None
    unanswered: int
    longest_silence: int | None
    current_silence: int | None  # days of the silence still running, if the group waits
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


def _median(counts: dict[int, int]) -> int | None:
    """The median of values given as value -> how often, in whole days (half rounds up)."""
    n = sum(counts.values())
    if not n:
        return None
    wanted, middle, seen = {(n - 1) // 2, n // 2}, {}, 0
    for value in sorted(counts):
        for position in wanted - middle.keys():
            if seen <= position < seen + counts[value]:
                middle[position] = value
        seen += counts[value]
    return int((middle[(n - 1) // 2] + middle[n // 2]) / 2 + 0.5)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _silence(start: str, end: str) -> tuple[date, date]:
    """A stored silence: two days, the first not after the second; anything else is a damaged
    tally (ValueError), folded afresh by whoever reads it."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if first > last:
        raise ValueError("a silence that ends before it begins")
    return first, last


def _number(value: object) -> int | None:
    return None if value is None else int(value)


@dataclass
class Tally:
    """The log folded in order: everything contact health needs, whatever day it is."""

    last_reply: date | None = None
    silence_from: date | None = None  # when the current silence began
    waiting_from: date | None = None  # the earliest message X has not answered
    unanswered: int = 0
    longest_closed: int | None = None  # the longest silence he has ended
    reply_days: dict[int, int] = field(default_factory=dict)  # days -> how many replies
    held: int = 0
    missed: int = 0
    last_entry_on: date | None = None
    # The silences he ended that lasted SHOWN_SILENCE_DAYS or more, (from, to): the timeline
    # draws them, so it needs no pass over the log.
    silences: list[tuple[date, date]] = field(default_factory=list)

    def add(self, day: date, direction: str, kind: str) -> None:
        """One entry, later than (or on the day of) every entry added before."""
        if is_reply(direction, kind):
            if self.silence_from is not None:
                silence = (day - self.silence_from).days
                self.longest_closed = max(self.longest_closed or 0, silence)
                if silence >= SHOWN_SILENCE_DAYS:
                    self.silences.append((self.silence_from, day))
            if self.waiting_from is not None:
                days = (day - self.waiting_from).days
                self.reply_days[days] = self.reply_days.get(days, 0) + 1
            self.last_reply, self.silence_from, self.waiting_from = day, day, None
            self.unanswered = 0
        elif direction == Direction.TO_X:
            if self.silence_from is None:
                self.silence_from = day
            if self.waiting_from is None:
                self.waiting_from = day
            self.unanswered += 1
        self.held += kind == EntryKind.MEETING_HELD
        self.missed += kind == EntryKind.MEETING_MISSED
        self.last_entry_on = day

    def health(self, steps: dict[str, int], today: date) -> Health:
        silences = [self.longest_closed] if self.longest_closed is not None else []
        current = None
        if self.silence_from is not None and self.unanswered:
            current = (today - self.silence_from).days
            silences.append(current)
        return Health(
            last_reply_on=self.last_reply,
            waiting_from=self.waiting_from,
            days_since_reply=(today - self.last_reply).days if self.last_reply else None,
            unanswered=self.unanswered,
            longest_silence=max(silences) if silences else None,
            current_silence=current,
            median_reply_days=_median(self.reply_days),
            meetings_held=self.held,
            meetings_missed=self.missed,
            steps_done=steps.get(StepStatus.DONE, 0),
            steps_missed=steps.get(StepStatus.MISSED, 0),
            steps_open=steps.get(StepStatus.OPEN, 0),
            last_entry_on=self.last_entry_on,
        )

    def as_json(self) -> dict:
        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "last_reply": day(self.last_reply),
            "silence_from": day(self.silence_from),
            "waiting_from": day(self.waiting_from),
            "unanswered": self.unanswered,
            "longest_closed": self.longest_closed,
            "reply_days": {str(k): v for k, v in sorted(self.reply_days.items())},
            "held": self.held,
            "missed": self.missed,
            "last_entry_on": day(self.last_entry_on),
            "silences": [[day(a), day(b)] for a, b in self.silences],
        }

    @classmethod
    def from_json(cls, data: dict) -> "Tally":
        return cls(
            last_reply=_day(data.get("last_reply")),
            silence_from=_day(data.get("silence_from")),
            waiting_from=_day(data.get("waiting_from")),
            unanswered=int(data.get("unanswered", 0)),
            longest_closed=_number(data.get("longest_closed")),
            reply_days={int(k): int(v) for k, v in data.get("reply_days", {}).items()},
            held=int(data.get("held", 0)),
            missed=int(data.get("missed", 0)),
            last_entry_on=_day(data.get("last_entry_on")),
            silences=[_silence(a, b) for a, b in data.get("silences", [])],
        )

    def open_silence(self, today: date) -> tuple[date, date] | None:
        """The silence still running while the group waits for a reply, if there is one."""
        if self.silence_from is not None and self.unanswered:
            return self.silence_from, today
        return None


def compute(events: list[tuple[date, str, str]], steps: dict[str, int], today: date) -> Health:
    """`events` are (day, direction, kind) of every log entry; `steps` counts steps by status."""
    tally = Tally()
    for day, direction, kind in sorted(events, key=lambda e: e[0]):  # stable: same-day order
        tally.add(day, direction, kind)
    return tally.health(steps, today)


MEETING_KINDS = (EntryKind.MEETING_HELD, EntryKind.MEETING_MISSED)


def fold(process_id: int) -> Tally:
    """The whole log folded afresh."""
    rows = list(
        Entry.objects.filter(process_id=process_id)
        .order_by("occurred_on", "pk")
        .values_list("occurred_on", "direction", "kind", "meeting")
    )
    # Each meeting counts once, however it was entered: a hand-written "meeting held/missed"
    # entry on a day whose meeting is recorded as a meeting is the same meeting.
    met_on = {row[0] for row in rows if row[3] is not None}
    tally = Tally()
    for day, direction, kind, meeting in rows:
        if not (kind in MEETING_KINDS and meeting is None and day in met_on):
            tally.add(day, direction, kind)
    return tally


def _locked_state(process_id: int) -> HealthState:
    """The process's tally row, made if missing, locked until the transaction ends, so that two
    writers fold one after the other (the second sees the first's entry)."""
    state = HealthState.objects.select_for_update().filter(process_id=process_id).first()
    if state is not None:
        return state
    try:
        with transaction.atomic():
            HealthState.objects.create(process_id=process_id)
    except IntegrityError:  # made by a writer at the same moment
        pass
    return HealthState.objects.select_for_update().get(process_id=process_id)


def refold(process_id: int) -> None:
    """Folds the whole log again (an edit, a meeting, an entry dated before the last)."""
    with transaction.atomic(savepoint=False):
        state = _locked_state(process_id)
        state.tally = fold(process_id).as_json()
        state.save(update_fields=["tally"])


def _stored(state: HealthState | None) -> Tally | None:
    """The stored tally, or None if there is none or it is not one (changed by hand)."""
    if state is None or not state.tally:
        return None
    try:
        return Tally.from_json(state.tally)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def entry_added(entry: Entry) -> None:
    entries_added(entry.process_id, [entry])


def entries_added(process_id: int, entries: list[Entry]) -> None:
    """Keeps the tally current, inside the service's transaction that added the entries:
    messages and notes dated on or after the last entry are folded in; anything else (an entry
    dated earlier, a meeting's entry) folds the log again. Edits and meetings call refold."""
    if not entries:
        return
    with transaction.atomic(savepoint=False):
        state = _locked_state(process_id)
        tally = _stored(state)
        latest = tally.last_entry_on if tally is not None else None
        if (
            tally is None
            or any(entry.kind in MEETING_KINDS for entry in entries)
            or (latest is not None and min(entry.occurred_on for entry in entries) < latest)
        ):
            refold(process_id)
            return
        for entry in sorted(entries, key=lambda e: (e.occurred_on, e.pk)):  # as `fold` orders
            tally.add(entry.occurred_on, entry.direction, entry.kind)
        state.tally = tally.as_json()
        state.save(update_fields=["tally"])


def tally_of(process) -> Tally:
    """The stored tally, in one query; folded now if there is none yet or it is damaged."""
    tally = _stored(HealthState.objects.filter(process=process).first())
    return tally if tally is not None else fold(process.pk)


def health_of(process, today: date) -> Health:
    """Two queries however long the log, no keys."""
    tally = tally_of(process)
    steps = dict(
        Step.objects.filter(process=process)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return tally.health(steps, today)


def stored_differs(process) -> bool:
    """Whether the stored tally says anything else than the log folded afresh (`uphold
    verify`: the figures pages show are exactly what the chain vouches for)."""
    state = HealthState.objects.filter(process=process).first()
    if state is None:
        return False
    tally = _stored(state)
    return tally is None or tally.as_json() != fold(process.pk).as_json()
