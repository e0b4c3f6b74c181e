"""The one place Uphold's figures are computed. The dashboard (the process's overview page),
`uphold stats`, the reports and the reflections page call `figures()` or the functions it is
made of, so every number a member sees is worked out once, one way.

Figures read clear columns only (dates, tag codes, scores), which the audit chain covers: they
need no key, never open sealed text, and `uphold verify` vouches for what they are built on.
Each function costs a fixed number of queries however long the record is.
"""

from dataclasses import asdict, dataclass
from datetime import date

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from uphold.demands.models import Demand
from uphold.people.models import InformedBy
from uphold.people.queries import Standing, counted_people, informed_of, tally
from uphold.processes.models import Process
from uphold.processes.permissions import authorize
from uphold.programmes.queries import referral_figures
from uphold.record.health import Health, health_of
from uphold.record.models import Direction, Entry, Owner, Step, StepStatus, Tag
from uphold.reflections.models import QUESTION_NAMES, Review

# The tags that show him avoiding the demands, counted over time (DESIGN.md: "counted in
# reports").
PATTERN_TAGS = (
    Tag.RESPONSIBILITY_SHIFTING,
    Tag.RENEGOTIATION,
    Tag.SELF_VICTIMISATION,
    Tag.DENIAL,
)


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(year: int, quarter: int) -> str:
    return _("Q%(quarter)s %(year)s") % {"quarter": quarter, "year": year}


def _quarters_between(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    year, quarter = first
    found = []
    while (year, quarter) <= last:
        found.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return found


def tag_counts(process: Process) -> dict:
    """Entries per quarter carrying each of PATTERN_TAGS: every quarter from the first such
    entry to the last, quiet quarters included (a silence is part of the pattern). One query,
    one pass over the dates and tag codes of the tagged entries."""
    wanted = [str(tag) for tag in PATTERN_TAGS]
    counts: dict[tuple[int, int], dict[str, int]] = {}
    rows = (
        Entry.objects.filter(process=process)
        .exclude(tags=[])
        .order_by()
        .values_list("occurred_on", "tags")
    )
    for occurred_on, tags in rows.iterator():
        hits = [tag for tag in wanted if tag in tags]
        if hits:
            per = counts.setdefault(quarter_of(occurred_on), dict.fromkeys(wanted, 0))
            for tag in hits:
                per[tag] += 1
    quarters = _quarters_between(min(counts), max(counts)) if counts else []
    periods = [
        {
            "label": quarter_label(*quarter),
            "year": quarter[0],
            "quarter": quarter[1],
            "counts": [counts.get(quarter, {}).get(tag, 0) for tag in wanted],
        }
        for quarter in quarters
    ]
    totals = [sum(p["counts"][i] for p in periods) for i in range(len(wanted))]
    return {
        "tags": [(tag.value, tag.label) for tag in PATTERN_TAGS],
        "periods": periods,
        "totals": totals,
    }


def review_scores(process: Process) -> list[dict]:
    """Per reflection, by its date: how many reviews it has and the mean score of each
    question (0 not at all, 1 partly, 2 clearly; "cannot say" left out; None if no review
    gave that question a score). One query, aggregated in the database."""
    rows = (
        Review.objects.filter(process=process)
        .values("reflection_id", "reflection__written_on")
        .annotate(reviews=Count("pk"), **{f"mean_{name}": Avg(name) for name in QUESTION_NAMES})
        .order_by("reflection__written_on", "reflection_id")
    )
    return [
        {
            "reflection_id": row["reflection_id"],
            "written_on": row["reflection__written_on"],
            "reviews": row["reviews"],
            "means": [
                None if row[f"mean_{name}"] is None else round(float(row[f"mean_{name}"]), 2)
                for name in QUESTION_NAMES
            ],
        }
        for row in rows
    ]


def patterns(process: Process) -> dict:
    """The patterns over time: tagged entries per quarter, and review scores per reflection."""
    return {"tags": tag_counts(process), "scores": review_scores(process)}


@dataclass(frozen=True)
class Figures:
    """Where a process stands, on a given day. `as_json()` is what `uphold stats` prints."""

    today: date
    demand_status: dict[int, str]  # demand number -> Status code
    messages_to_respondent: int
    messages_from_respondent: int
    longest_silence_days: int | None
    current_silence_days: int  # 0 while the group waits for nothing
    median_reply_days: int | None
    meetings_held: int
    meetings_missed: int
    steps: dict[str, dict[str, int]]  # owner -> status -> how many
    steps_overdue: dict[str, int]  # owner -> open steps whose day has passed
    informed_by_respondent: int
    informed_by_group: int
    uninformed: int
    informing_counted: int  # the circles and partners the informing demand is about
    referrals: dict
    tags: dict[str, int]  # tag code -> entries carrying it

    def steps_of(self, owner: str, status: str) -> int:
        return self.steps.get(owner, {}).get(status, 0)

    def as_json(self) -> dict:
        data = asdict(self)
        data["today"] = self.today.isoformat()
        data["demand_status"] = {str(n): s for n, s in self.demand_status.items()}
        for owner, name in ((Owner.X, "respondent"), (Owner.GROUP, "group")):
            for status in (StepStatus.DONE, StepStatus.MISSED, StepStatus.OPEN):
                data[f"steps_{status}_by_{name}"] = self.steps_of(owner, status)
            data[f"steps_overdue_by_{name}"] = self.steps_overdue.get(owner, 0)
        return data


def figures_for(actor, code: str, today: date) -> Figures:
    """The figures, for a member whose role reads the record (web and command line alike)."""
    membership = authorize(actor, "figures.view", code)
    return figures(membership.process, today)


def figures(process: Process, today: date, health: Health | None = None) -> Figures:
    """Every figure of the process, from clear columns only, in a fixed number of queries
    however long the record is (the circles are read whole: one row each, no text).
    `health` is the process's contact health today, if the caller has it already."""
    health = health or health_of(process, today)
    messages = Entry.objects.filter(process=process).aggregate(
        to_x=Count("pk", filter=Q(direction=Direction.TO_X)),
        from_x=Count("pk", filter=Q(direction=Direction.FROM_X)),
        **{f"tag_{tag}": Count("pk", filter=Q(tags__icontains=f'"{tag}"')) for tag in Tag.values},
    )
    informing = informing_counts(process)
    return Figures(
        today=today,
        demand_status=dict(
            Demand.objects.filter(process=process)
            .order_by("number")
            .values_list("number", "status")
        ),
        messages_to_respondent=messages["to_x"],
        messages_from_respondent=messages["from_x"],
        longest_silence_days=health.longest_silence,
        current_silence_days=health.current_silence or 0,
        median_reply_days=health.median_reply_days,
        meetings_held=health.meetings_held,
        meetings_missed=health.meetings_missed,
        steps=step_counts(process),
        steps_overdue=overdue_steps(process, today),
        informed_by_respondent=informing[InformedBy.RESPONDENT],
        informed_by_group=informing[InformedBy.GROUP],
        uninformed=informing[Standing.UNINFORMED],
        informing_counted=informing["counted"],
        referrals=referral_figures(process),
        tags={tag: messages[f"tag_{tag}"] for tag in Tag.values},
    )


def step_counts(process: Process) -> dict[str, dict[str, int]]:
    """Steps by owner and status: one grouped query."""
    counts = {owner: dict.fromkeys(StepStatus.values, 0) for owner in Owner.values}
    rows = (
        Step.objects.filter(process=process)
        .values_list("owner", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for owner, status, n in rows:
        counts.setdefault(owner, dict.fromkeys(StepStatus.values, 0))[status] = n
    return counts


def overdue_steps(process: Process, today: date) -> dict[str, int]:
    """Open steps whose day has passed, by owner: one grouped query."""
    counts = dict.fromkeys(Owner.values, 0)
    rows = (
        Step.objects.filter(process=process, status=StepStatus.OPEN, due_on__lt=today)
        .values_list("owner")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts.update(dict(rows))
    return counts


def informing_counts(process: Process) -> dict[str, int]:
    """Of the circles and partners (whom the informing demand is about), how many X informed
    (at any reach), how many the group informed, and how many nobody has: as the informing
    page counts them, in two queries, one clear row per circle."""
    people = list(counted_people(process).only("pk", "process", "kind", "relation"))
    return tally(list(informed_of(people).values()))
