"""Which role reads which scope: the single list that permissions and encryption both use.

A scope is a set of content that exactly the same roles may read (DESIGN.md, "Scope keys").
The permission function grants read actions by scope, and the crypto layer seals each scope's
key to the members whose role reads it, so the two cannot drift apart.
"""

from typing import TYPE_CHECKING

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


def scopes_of(membership: "Membership") -> frozenset[str]:
    held = {scope for scope, roles in READERS.items() if membership.role in roles}
    if membership.role == Role.SURVIVOR and membership.survivor_full_access:
        held.add(RECORD)
    return frozenset(held)
