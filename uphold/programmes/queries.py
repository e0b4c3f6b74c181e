"""Reads for the directory and referral pages, each in a fixed number of queries, and the
referral figures, from clear columns only."""

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from uphold.processes.models import Process

from .models import NEEDS_REASONS, Kind, Programme, Referral, ReferralChange, ResearchedBy, Status

DIRECTORY_PAGE = 25
MAX_FILTER = 100


@dataclass(frozen=True)
class Filter:
    region: str = ""
    kind: str = ""
    language: str = ""

    @classmethod
    def of(cls, params) -> "Filter":
        kind = params.get("kind", "")
        return cls(
            region=" ".join(params.get("region", "").split())[:MAX_FILTER],
            kind=kind if kind in Kind.values else "",
            language=" ".join(params.get("language", "").split())[:MAX_FILTER],
        )

    @property
    def active(self) -> bool:
        return bool(self.region or self.kind or self.language)


def directory(chosen: Filter) -> QuerySet[Programme]:
    found = Programme.objects.all()
    if chosen.region:
        found = found.filter(region__icontains=chosen.region)
    if chosen.kind:
        found = found.filter(kind=chosen.kind)
    if chosen.language:
        found = found.filter(language_key__contains=f"|{chosen.language.casefold()}|")
    return found.order_by("name", "region", "pk")


def programme_count(chosen: Filter) -> int:
    return directory(chosen).count()


def programmes(chosen: Filter, offset: int, limit: int = DIRECTORY_PAGE) -> list[Programme]:
    return list(directory(chosen)[offset : offset + limit])


def programme_choices() -> QuerySet[Programme]:
    """For the referral form's list: names and regions only."""
    return Programme.objects.only("pk", "name", "region").order_by("name", "region", "pk")


def referrals(process: Process) -> list[Referral]:
    """Every referral of the process with its programme, in one query."""
    return list(
        Referral.objects.filter(process=process)
        .select_related("programme")
        .order_by("-status_on", "-pk")
    )


def referral_figures(process: Process) -> dict:
    """The referral's numbers for the figures (issue #23): clear columns only, no key needed.

    `researched_by_group` counts the referrals the group researched although the demand asks
    X to: the responsibility-shifting the report warns of.
    """
    rows = Referral.objects.filter(process=process)
    by_status = dict.fromkeys(Status.values, 0)
    by_research = dict.fromkeys(ResearchedBy.values, 0)
    total = passed = 0
    for status, researched_by, route, count in (
        rows.values_list("status", "researched_by", "contact_route_passed")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        by_status[status] += count
        by_research[researched_by] += count
        passed += count if route else 0
        total += count
    refusals = ReferralChange.objects.filter(
        process=process, status_after__in=NEEDS_REASONS
    ).exclude(status_before__in=NEEDS_REASONS)
    return {
        "referrals": total,
        "by_status": by_status,
        "researched_by_x": by_research[ResearchedBy.X],
        "researched_by_group": by_research[ResearchedBy.GROUP],
        "contact_route_passed": passed,
        "refusals_and_drops": refusals.count(),
    }
