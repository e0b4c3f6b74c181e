"""The one place Uphold's figures are computed. The reflections page shows them today; the
dashboard, `uphold stats` and the reports (#23) will call the same functions, so every number
a member sees is worked out once, one way.

Figures read clear columns only (dates, tag codes, scores), which the audit chain covers: they
need no key, never open sealed text, and `uphold verify` vouches for what they are built on.
Each function costs a fixed number of queries however long the record is.
"""

from datetime import date

from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from uphold.processes.models import Process
from uphold.record.models import Entry, Tag
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
