"""Reads for the record pages, each in a fixed number of queries."""

from django.db import models
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from uphold.accounts.models import User
from uphold.demands.models import Demand
from uphold.processes.models import Membership, Process, Role
from uphold.processes.queries import meeting_zone

from . import reminders
from .health import health_of
from .models import Direction, Entry, EntryKind, Meeting, Owner, Step, StepStatus

LOG_PAGE = 25


def group_of(process: Process) -> list[User]:
    """Members of the support and contact groups, who can be named as taking part."""
    return list(
        User.objects.filter(
            memberships__process=process, memberships__role__in=[Role.SUPPORT, Role.CONTACT]
        ).order_by("username")
    )


# What the log can be narrowed to besides a tag: the entries behind the dashboard's figures
# (uphold/figures.py counts messages by direction, contact health meetings by kind).
SHOWS: dict[str, tuple[models.Q, object]] = {
    "to_x": (models.Q(direction=Direction.TO_X), Direction.TO_X.label),
    "from_x": (models.Q(direction=Direction.FROM_X), Direction.FROM_X.label),
    "meeting_held": (models.Q(kind=EntryKind.MEETING_HELD), EntryKind.MEETING_HELD.label),
    "meeting_missed": (models.Q(kind=EntryKind.MEETING_MISSED), EntryKind.MEETING_MISSED.label),
}


def log_of(process: Process, tag: str = "", show: str = "") -> QuerySet[Entry]:
    """The log's entries, newest first; with `tag`, only those tagged with it; with `show`
    (a key of SHOWS), only those of that direction or kind."""
    found = Entry.objects.filter(process=process)
    if tag:
        # Tags are a JSON list of fixed words; its text holds each one in quotes.
        found = found.filter(tags__icontains=f'"{tag}"')
    if show in SHOWS:
        found = found.filter(SHOWS[show][0])
    return found.order_by("-occurred_on", "-pk")


def entry_count(process: Process, tag: str = "", show: str = "") -> int:
    """How many entries the log lists: one count over clear columns, no text loaded."""
    return log_of(process, tag, show).count()


def entries(
    process: Process,
    tag: str = "",
    offset: int = 0,
    limit: int = LOG_PAGE,
    ids: list[int] | None = None,
    show: str = "",
) -> list[Entry]:
    """One page of the log (`limit` entries from `offset`), or the entries `ids`, in the log's
    order, with what the page shows of each: in two queries however long the log. The full
    text and the people are not loaded (the entry's own page shows them); how often an entry
    was edited is its revision, so nothing is grouped or counted across the log."""
    found = (
        log_of(process, tag, show)
        .select_related("by")
        .defer("text", "people")
        .prefetch_related(Prefetch("demands", queryset=Demand.objects.only("pk", "number")))
    )
    if ids is not None:
        return list(found.filter(pk__in=ids))
    return list(found[offset : offset + limit])


def overview(membership: Membership) -> dict:
    """Contact health and the reminders, for the process page; the next meeting's time is
    shown in the zone of the group that meets X, as on the meetings page."""
    process = membership.process
    today = timezone.localdate()
    return {
        "health": health_of(process, today),
        "zone": meeting_zone(process),
        "reminders": reminders.recent(process),
        "next_meeting": next_meeting(process),
        "overdue_steps": Step.objects.filter(
            process=process, status=StepStatus.OPEN, due_on__lt=today
        ).count(),
    }


def next_meeting(process: Process) -> Meeting | None:
    return (
        Meeting.objects.filter(process=process, outcome="", planned_at__gte=timezone.now())
        .order_by("planned_at")
        .first()
    )


MEETINGS_PAGE = 25
STEPS_PAGE = 25
MEETING_ORDER = ("-planned_at", "-pk")  # the next one first, then back in time
STEP_ORDER = ("status", "due_on", "pk")  # done, missed, open; each by when it is due


def meeting_count(process: Process) -> int:
    return Meeting.objects.filter(process=process).count()


def meetings(process: Process, offset: int = 0, limit: int = MEETINGS_PAGE) -> list[Meeting]:
    """One page of the meetings: its rows are chosen first, so the count of steps agreed at
    each is taken over this page's meetings only, however many the process has had."""
    ids = list(
        Meeting.objects.filter(process=process)
        .order_by(*MEETING_ORDER)
        .values_list("pk", flat=True)[offset : offset + limit]
    )
    return list(
        Meeting.objects.filter(pk__in=ids)
        .select_related("confirmation")
        .annotate(step_count=Count("steps"))
        .order_by(*MEETING_ORDER)
    )


# The steps page narrowed to the steps behind a figure: by owner, and by status or "overdue"
# (open, and the day it was due has passed), as uphold/figures.py counts them.
OVERDUE = "overdue"


def steps_of(process: Process, owner: str = "", status: str = "") -> QuerySet[Step]:
    found = Step.objects.filter(process=process)
    if owner in Owner.values:
        found = found.filter(owner=owner)
    if status == OVERDUE:
        found = found.filter(status=StepStatus.OPEN, due_on__lt=timezone.localdate())
    elif status in StepStatus.values:
        found = found.filter(status=status)
    return found


def step_count(process: Process, owner: str = "", status: str = "") -> int:
    return steps_of(process, owner, status).count()


def steps(
    process: Process, offset: int = 0, limit: int = STEPS_PAGE, owner: str = "", status: str = ""
) -> list[Step]:
    return list(
        steps_of(process, owner, status)
        .select_related("demand", "meeting")
        .order_by(*STEP_ORDER)[offset : offset + limit]
    )


def replies_from_x(process: Process, limit: int = 50) -> list[Entry]:
    """The latest entries where X said something: to link an answer to a demand to its entry."""
    return list(
        Entry.objects.filter(process=process)
        .filter(models.Q(direction=Direction.FROM_X) | models.Q(kind=EntryKind.MEETING_HELD))
        .order_by("-occurred_on", "-pk")[:limit]
    )
