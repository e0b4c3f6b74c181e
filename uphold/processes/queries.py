"""Reads for process pages, each in a fixed number of queries."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from uphold.accounts.models import Invitation, User
from uphold.audit.models import AuditEvent
from uphold.audit.services import object_names
from uphold.crypto.keyring import NoKey
from uphold.crypto.models import SealedScopeKey

from . import scopes
from .models import GroupKind, Membership, Process, ProcessGroup, Role
from .permissions import own_group


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("process").order_by("process__code")


def terms_of(process: Process) -> dict[str, str]:
    """What the process calls the person harmed and the person who did harm."""
    try:
        survivor, respondent = process.survivor_term, process.respondent_term
    except NoKey:
        survivor = respondent = None
    return {
        "survivor": survivor or str(DEFAULT_TERMS["survivor"]),
        "respondent": respondent or str(DEFAULT_TERMS["respondent"]),
    }


DEFAULT_TERMS = {"survivor": _("survivor"), "respondent": "X"}


def groups_of(membership: Membership) -> list[dict]:
    """The groups taking part, for those who read the record (where they are is in it)."""
    if scopes.RECORD not in scopes.scopes_of(membership):
        return []
    rows = []
    for group in ProcessGroup.objects.filter(process=membership.process):
        try:
            place = group.place
        except NoKey:
            place = None
        rows.append({"group": group, "place": place})
    return rows


def demand_counts(process: Process) -> list[tuple[str, int]]:
    from uphold.demands.models import Demand, Status

    counts = {
        row["status"]: row["n"]
        for row in Demand.objects.filter(process=process).values("status").annotate(n=Count("pk"))
    }
    return [(Status(s).label, counts[s]) for s in Status.values if counts.get(s)]


def readable_title(process: Process) -> str | None:
    """The title, if the current keyring holds the `record` key; None otherwise."""
    try:
        return process.title
    except NoKey:
        return None


def missing_scopes(membership: Membership) -> list[str]:
    held = set(
        SealedScopeKey.objects.filter(
            scope_key__process_id=membership.process_id,
            scope_key__active=True,
            user_id=membership.user_id,
        ).values_list("scope_key__scope", flat=True)
    )
    return sorted(scopes.scopes_of(membership) - held)


def audit_head(process: Process) -> AuditEvent | None:
    return AuditEvent.objects.filter(process=process).order_by("-seq").first()


def audit_events(process: Process, top: int, count: int) -> list[dict]:
    """A page of the chain, newest first: the events numbered `top` down to `top - count + 1`.

    Events are numbered 1, 2, 3 … in each process, so a page is found by its numbers, in two
    queries however long the chain, and the pages need no count of the events.
    """
    events = list(
        AuditEvent.objects.filter(process=process, seq__lte=top, seq__gt=top - count)
        .order_by("-seq")
        .defer("columns")  # the page does not show them; `verify_recent` reads its own
    )
    names = dict(
        User.objects.filter(pk__in={e.actor_id_at_the_time for e in events}).values_list(
            "pk", "username"
        )
    )
    objects = object_names(events)
    return [
        {
            "event": e,
            "actor": names.get(e.actor_id_at_the_time, ""),
            # A row since deleted keeps the name of its kind.
            "object": objects.get((e.object_type, e.object_id))
            or OBJECT_NAMES.get(e.object_type, ""),
        }
        for e in events
    ]


# What an audit event's row is called on the page.
OBJECT_NAMES = {
    "processes.process": _("the process"),
    "processes.membership": _("a membership"),
    "attachments.attachment": _("a document"),
    "processes.processgroup": _("a group taking part"),
    "demands.letter": _("the letter"),
    "demands.letterversion": _("a version of the letter"),
    "demands.demand": _("a demand"),
    "demands.demandversion": _("a version of a demand"),
    "demands.changeproposal": _("a proposed change to a demand"),
    "demands.progress": _("progress on a demand"),
    "demands.answer": _("an answer to a demand"),
    "record.entry": _("a log entry"),
    "record.entryversion": _("an earlier wording of a log entry"),
    "record.meeting": _("a meeting"),
    "record.step": _("a step"),
    "record.stepchange": _("a change of a step"),
    "record.confirmation": _("a confirmation to X"),
    "record.calendarfeed": _("a calendar link"),
    "accounts.invitation": _("an invitation link"),
}


def is_member(user, code: str) -> bool:
    return Membership.objects.filter(process__code=code, user=user).exists()


def meeting_zone(process: Process) -> ZoneInfo:
    """Where the process's meetings happen: the contact group's time zone (it meets X), else
    the first group's, else the server's. Meeting times are entered and shown in it."""
    zones = dict(
        ProcessGroup.objects.filter(process=process)
        .order_by("-pk")
        .values_list("kind", "time_zone")
    )
    for name in (zones.get(GroupKind.CONTACT), *zones.values(), settings.TIME_ZONE):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            continue
    return ZoneInfo("UTC")


def open_invitations(process: Process) -> list[dict]:
    """Links not yet used, withdrawn or expired, soonest to expire first; one query."""
    links = (
        Invitation.objects.filter(
            process=process,
            used_at__isnull=True,
            withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("created_by")
        .order_by("expires_at", "pk")
    )
    return [{"invitation": link, "role": Role(link.role).label} for link in links]


def own_group_of(membership: Membership) -> ProcessGroup | None:
    """The row of the group this member speaks for, if their group is listed."""
    kind = own_group(membership)
    if kind is None:
        return None
    return ProcessGroup.objects.filter(process=membership.process, kind=kind).order_by("pk").first()
