"""The whole process on one time axis: messages each way, meetings held and missed, steps due
and missed, demand status changes, and the silences drawn as gaps with their length.

Clear columns only, counted in the database by month (the whole process) or by day (one year),
so the page costs the same few queries however long the record is; the silences come from the
stored contact-health tally (health.py), not from a pass over the log. The page draws it as SVG
on the server and gives the same numbers as a table.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F, Min, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from uphold.demands.models import Progress
from uphold.processes.models import Process

from .health import tally_of
from .models import Direction, Entry, EntryKind, Step, StepStatus

LANES = ("to_x", "from_x", "held", "missed", "steps_due", "steps_missed", "demands")
ENTRY_COUNTS = {
    "to_x": Q(direction=Direction.TO_X),
    "from_x": Q(direction=Direction.FROM_X),
    "held": Q(kind=EntryKind.MEETING_HELD),
    "missed": Q(kind=EntryKind.MEETING_MISSED),
}


@dataclass
class Bucket:
    """A month (the whole process) or a day (one year), with what happened in it."""

    start: date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LANES, 0))

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())

    @property
    def values(self) -> list[int]:
        return [self.counts[lane] for lane in LANES]


@dataclass(frozen=True)
class Silence:
    start: date
    end: date
    running: bool  # still going on: the group waits for a reply today

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class Timeline:
    first: date
    last: date
    year: int | None  # None: the whole process, by month
    years: list[int]
    buckets: list[Bucket]
    silences: list[Silence]

    @property
    def days(self) -> int:
        return max((self.last - self.first).days, 1)

    @property
    def busy(self) -> list[Bucket]:
        return [b for b in self.buckets if not b.empty]


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _same_day(name: str, tzinfo=None):
    """A day bucket: a date column is its own day; a moment is cut to its day in `tzinfo`."""
    return TruncDate(name, tzinfo=tzinfo) if tzinfo is not None else F(name)


def first_day(process: Process) -> date | None:
    """The earliest day anything on the timeline happened (one query each)."""
    days = [
        Entry.objects.filter(process=process).aggregate(d=Min("occurred_on"))["d"],
        Step.objects.filter(process=process).aggregate(d=Min("due_on"))["d"],
    ]
    days = [d for d in days if d is not None]
    return min(days) if days else None


def years_of(first: date, today: date) -> list[int]:
    """The years the timeline can be zoomed to: from the first event's to this one."""
    return list(range(first.year, max(today.year, first.year) + 1))


def timeline(
    process: Process, today: date, year: int | None = None, first: date | None = None
) -> Timeline:
    """The whole process by month, or `year` by day; `first` is `first_day`, if the caller
    has it already."""
    first = first or first_day(process) or today
    years = years_of(first, today)
    if year is not None:
        start, end = date(year, 1, 1), date(year, 12, 31)
        by, step = _same_day, lambda d: d + timedelta(days=1)
    else:
        start, end = _month(first), _next_month(_month(today)) - timedelta(days=1)
        by, step = TruncMonth, _next_month
    buckets: dict[date, Bucket] = {}
    day = start
    while day <= end:
        buckets[day] = Bucket(day)
        day = step(day)

    def add(rows, lane_of) -> None:
        for row in rows:
            bucket = buckets.get(_as_date(row["at"]))
            if bucket is not None:
                for lane, n in lane_of(row):
                    bucket.counts[lane] += n

    entries = Entry.objects.filter(process=process, occurred_on__range=(start, end))
    add(
        entries.annotate(at=by("occurred_on"))
        .values("at")
        .annotate(**{lane: Count("pk", filter=q) for lane, q in ENTRY_COUNTS.items()})
        .order_by(),
        lambda row: [(lane, row[lane]) for lane in ENTRY_COUNTS],
    )
    steps = Step.objects.filter(process=process, due_on__range=(start, end))
    add(
        steps.annotate(at=by("due_on"))
        .values("at")
        .annotate(due=Count("pk"), missed=Count("pk", filter=Q(status=StepStatus.MISSED)))
        .order_by(),
        lambda row: [("steps_due", row["due"]), ("steps_missed", row["missed"])],
    )
    zone = timezone.get_current_timezone()
    changes = Progress.objects.filter(process=process).exclude(status_before=F("status_after"))
    add(
        changes.annotate(at=by("recorded_at", tzinfo=zone))
        .values("at")
        .annotate(n=Count("pk"))
        .order_by(),
        lambda row: [("demands", row["n"])],
    )
    tally = tally_of(process)
    found = [Silence(a, b, False) for a, b in tally.silences]
    running = tally.open_silence(today)
    if running and (today - running[0]).days >= 1:
        found.append(Silence(running[0], running[1], True))
    shown = [s for s in found if s.end >= start and s.start <= end]
    return Timeline(
        first=start,
        last=end + timedelta(days=1),
        year=year,
        years=years,
        buckets=list(buckets.values()),
        silences=shown,
    )


# The drawing: server-side SVG, one lane per kind of event and one for the silences.
LEFT = 150  # the lanes' names
LANE = 26
AXIS = 28
MONTH_WIDTH = 18  # the whole process: per month
DAY_WIDTH = 2.6  # one year: per day


@dataclass(frozen=True)
class Shape:
    kind: str  # "rect", "text" or "line"
    css: str
    x: float
    y: float
    w: float = 0
    h: float = 0
    text: str = ""
    title: str = ""

    @property
    def x2(self) -> float:  # a line runs `w` across or `h` down
        return round(self.x + self.w, 1)

    @property
    def y2(self) -> float:
        return round(self.y + self.h, 1)


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    shapes: list[Shape]

    def markup(self) -> SafeString:
        """The shapes as SVG elements, written here rather than in a template loop: a year
        has a few thousand of them. Every text is escaped."""
        out = []
        for s in self.shapes:
            tip = f"<title>{escape(s.title)}</title>" if s.title else ""
            css = escape(s.css)
            if s.kind == "rect":
                out.append(
                    f'<rect class="{css}" x="{s.x}" y="{s.y}" width="{s.w}" height="{s.h}">'
                    f"{tip}</rect>"
                )
            elif s.kind == "line":
                out.append(f'<line class="{css}" x1="{s.x}" y1="{s.y}" x2="{s.x2}" y2="{s.y2}"/>')
            else:
                out.append(f'<text class="{css}" x="{s.x}" y="{s.y}">{escape(s.text)}{tip}</text>')
        return mark_safe("\n".join(out))  # noqa: S308  (numbers, and escaped texts)


def drawing(tl: Timeline, lane_names: dict[str, str], period_label, silence_label) -> Drawing:
    """`lane_names` names each lane (LANES and "silences"); `period_label(bucket_start)` and
    `silence_label(silence)` say in words what a mark is, for its tooltip and label."""
    per_day = DAY_WIDTH if tl.year else MONTH_WIDTH * 12 / 365.25
    plot = max(round(tl.days * per_day), 300)
    lanes = [*LANES, "silences"]
    height = AXIS + LANE * len(lanes) + 4
    width = LEFT + plot + 10

    def x(day: date) -> float:
        return round(LEFT + (day - tl.first).days / tl.days * plot, 1)

    shapes: list[Shape] = []
    top = {lane: AXIS + i * LANE for i, lane in enumerate(lanes)}
    for silence in tl.silences:  # a pale band through every lane: the gap
        start, end = max(silence.start, tl.first), min(silence.end, tl.last)
        shapes.append(
            Shape("rect", "gap", x(start), AXIS, max(x(end) - x(start), 1), LANE * len(lanes))
        )
    for lane in lanes:
        name = lane_names[lane]
        shapes.append(Shape("text", "lane-name", LEFT - 6, top[lane] + LANE * 0.65, text=name))
        shapes.append(Shape("line", "lane-rule", LEFT, top[lane] + LANE, w=plot))
    peak = {lane: max((b.counts[lane] for b in tl.buckets), default=0) or 1 for lane in LANES}
    ends = [b.start for b in tl.buckets[1:]] + [tl.last]
    for bucket, end in zip(tl.buckets, ends, strict=True):
        left, right = x(bucket.start), x(end)
        for lane in LANES:
            n = bucket.counts[lane]
            if n:
                h = max(round((LANE - 6) * n / peak[lane], 1), 3)
                shapes.append(
                    Shape(
                        "rect",
                        f"bar {lane}",
                        left,
                        top[lane] + LANE - 2 - h,
                        max(right - left - 1, 1),
                        h,
                        title=f"{period_label(bucket.start)}: {lane_names[lane]} {n}",
                    )
                )
    row = top["silences"]
    for silence in tl.silences:
        start, end = max(silence.start, tl.first), min(silence.end, tl.last)
        left, right = x(start), x(end)
        words = silence_label(silence)
        css = "silence running" if silence.running else "silence"
        width_ = max(right - left, 1)
        shapes.append(Shape("rect", css, left, row + 4, width_, LANE - 8, title=words))
        middle, baseline = (left + right) / 2, row + LANE * 0.68
        days = str(silence.days)
        shapes.append(Shape("text", "silence-days", middle, baseline, text=days, title=words))
    for tick in _ticks(tl):
        shapes.append(Shape("line", "tick", x(tick), AXIS - 6, h=LANE * len(lanes) + 6))
        label = str(tick.year) if tl.year is None else period_label(tick)
        shapes.append(Shape("text", "tick-label", x(tick) + 2, AXIS - 10, text=label))
    return Drawing(width, height, shapes)


def _ticks(tl: Timeline) -> list[date]:
    """Each year's first day (the whole process) or each month's (one year)."""
    if tl.year is not None:
        return [date(tl.year, m, 1) for m in range(1, 13)]
    return [date(y, 1, 1) for y in range(tl.first.year + 1, tl.last.year + 1)] or [tl.first]
