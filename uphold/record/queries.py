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
from .models import Direction, Entry, EntryKind, Meeting, Step, StepStatus

LOG_PAGE = 25


def group_of(process: Process) -> list[User]:
    """Members of the support and contact groups, who can be named as taking part."""
    return list(
        User.objects.filter(
            memberships__process=process, memberships__role__in=[Role.SUPPORT, Role.CONTACT]
        ).order_by("username")
    )


def log_of(process: Process, tag: str = "") -> QuerySet[Entry]:
    """The log's entries, newest first; with `tag`, only those tagged with it."""
    found = Entry.objects.filter(process=process)
    if tag:
        # Tags are a JSON list of fixed words; its text holds each one in quotes.
        found = found.filter(tags__icontains=f'"{tag}"')
    return found.order_by("-occurred_on", "-pk")


def entry_count(process: Process, tag: str = "") -> int:
    """How many entries the log lists: one count over clear columns, no text loaded."""
    return log_of(process, tag).count()


def entries(
    process: Process,
    tag: str = "",
    offset: int = 0,
    limit: int = LOG_PAGE,
    ids: list[int] | None = None,
) -> list[Entry]:
    """One page of the log (`limit` entries from `offset`), or the entries `ids`, in the log's
    order, with what the page shows of each: in two queries however long the log. The full
    text and the people are not loaded (the entry's own page shows them); how often an entry
    was edited is its revision, so nothing is grouped or counted across the log."""
    found = (
        log_of(process, tag)
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
        "next_meeting": Meeting.objects.filter(
            process=process, outcome="", planned_at__gte=timezone.now()
        )
        .order_by("planned_at")
        .first(),
        "overdue_steps": Step.objects.filter(
            process=process, status=StepStatus.OPEN, due_on__lt=today
        ).count(),
    }


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


def step_count(process: Process) -> int:
    return Step.objects.filter(process=process).count()


def steps(process: Process, offset: int = 0, limit: int = STEPS_PAGE) -> list[Step]:
    return list(
        Step.objects.filter(process=process)
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
