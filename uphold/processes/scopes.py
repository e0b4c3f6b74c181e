"""Which role reads which scope: the single list that permissions and encryption both use.

A scope is a set of content that exactly the same roles may read (DESIGN.md, "Scope keys").
The permission function grants read actions by scope, and the crypto layer seals each scope's
key to the members whose role reads it, so the two cannot drift apart.
"""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from .roles import Role

if TYPE_CHECKING:
    from .models import Membership

SHARED = "shared"
RECORD = "record"
SURVIVOR = "survivor"
COMMUNITY = "community"
RESPONDENT = "respondent"

READERS: dict[str, frozenset[str]] = {
    SHARED: frozenset(Role.values),
    RECORD: frozenset({Role.SUPPORT, Role.CONTACT}),
    SURVIVOR: frozenset({Role.SURVIVOR, Role.SUPPORT, Role.CONTACT}),
    COMMUNITY: frozenset({Role.COMMUNITY, Role.SUPPORT, Role.CONTACT}),
    RESPONDENT: frozenset({Role.RESPONDENT, Role.SUPPORT, Role.CONTACT}),
}


# What each scope's key opens, in words a member understands (for warnings about keys).
LABELS = {
    SHARED: _("the letter and the demands, which every member reads"),
    RECORD: _("the record, which only the support and contact groups read"),
    SURVIVOR: _("what the survivor's side reads"),
    COMMUNITY: _("the report-backs to the community group"),
    RESPONDENT: _("what the person who did harm reads"),
}


def scopes_of(membership: "Membership") -> frozenset[str]:
    held = {scope for scope, roles in READERS.items() if membership.role in roles}
    if (
        membership.role == Role.SURVIVOR
        and membership.survivor_full_access
        and _full_access_chosen(membership)
    ):
        held.add(RECORD)
    return frozenset(held)


def _full_access_chosen(membership: "Membership") -> bool:
    """The survivor chose full access through Uphold: the last event about their membership
    holds the flag as it is now. A flag set in the database behind Uphold's back is no choice,
    and gives no key (nor the pages behind it)."""
    from uphold.audit.models import AuditEvent
    from uphold.audit.services import column_digest

    latest = (
        AuditEvent.objects.filter(
            process_id=membership.process_id,
            object_type="processes.membership",
            object_id=str(membership.pk),
        )
        .order_by("-seq")
        .values_list("columns", flat=True)
        .first()
    )
    wanted = column_digest("survivor_full_access", True)
    return bool(latest) and latest.get("survivor_full_access") == wanted


def may_hold(membership: "Membership", process_id: int, scope: str) -> bool:
    """The one rule for sealing anything of a scope to a person: a current member of that
    process whose role reads the scope. A key row or a feed row is never evidence of it."""
    return membership.process_id == process_id and scope in scopes_of(membership)


def holders(process_id: int, scope: str) -> dict[int, "Membership"]:
    """user id -> membership, for every current member who may hold the scope's key."""
    from .models import Membership

    return {
        m.user_id: m
        for m in Membership.objects.filter(process_id=process_id)
        if may_hold(m, process_id, scope)
    }
