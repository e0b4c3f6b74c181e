"""The one permission function. Every view and every service asks `authorize`.

Read actions are granted by scope (see scopes.py); write actions name their roles.
A process a user is not a member of does not exist for them: 404, never 403.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import scopes
from .models import Membership, Process, Role


class NotAuthenticated(Exception):
    """The request needs a logged-in, two-factor-verified user."""


@dataclass(frozen=True)
class Reads:
    scope: str

    def allows(self, membership: Membership) -> bool:
        return self.scope in scopes.scopes_of(membership)


@dataclass(frozen=True)
class Roles:
    roles: frozenset[str]

    def allows(self, membership: Membership) -> bool:
        return membership.role in self.roles


GROUP = frozenset({Role.SUPPORT, Role.CONTACT})
# The demands belong to the survivor's side: the survivor and their support group.
SURVIVOR_SIDE = frozenset({Role.SURVIVOR, Role.SUPPORT})

PROCESS_ACTIONS = {
    "process.view": Reads(scopes.SHARED),
    "members.view": Reads(scopes.RECORD),
    "members.invite": Roles(GROUP),
    "members.remove": Roles(GROUP),
    "members.grant": Roles(GROUP),
    "keys.rotate": Roles(GROUP),
    "audit.view": Reads(scopes.RECORD),
    "documents.view": Reads(scopes.RECORD),
    "documents.upload": Roles(GROUP),
    "demands.view": Reads(scopes.SHARED),
    "demands.history": Reads(scopes.SURVIVOR),
    "demands.author": Roles(SURVIVOR_SIDE),
    "demands.propose": Roles(SURVIVOR_SIDE | {Role.CONTACT}),
    "demands.decide": Roles(SURVIVOR_SIDE),
    "demands.progress": Roles(SURVIVOR_SIDE | {Role.CONTACT}),
    "demands.answers": Reads(scopes.RECORD),
    "demands.answer": Roles(GROUP),
    "letter.edit": Roles(SURVIVOR_SIDE),
    # Whoever handed it over may say so: the survivor's side, or the contact group for X.
    "letter.hand_over": Roles(SURVIVOR_SIDE | {Role.CONTACT}),
    "record.view": Reads(scopes.RECORD),
    "record.write": Roles(frozenset({Role.CONTACT})),
    "calendar.feed": Reads(scopes.RECORD),
}
ACCOUNT_ACTIONS = {"account.use", "process.start"}
ADMIN_ACTIONS = {"admin.accounts", "admin.health"}

# Which roles a member of each role may invite into their process.
INVITABLE: dict[str, frozenset[str]] = {
    Role.SUPPORT: frozenset(Role.values),
    Role.CONTACT: frozenset({Role.CONTACT, Role.COMMUNITY, Role.RESPONDENT}),
}


def is_verified(user) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and user.is_active and verified and verified())


def authorize(user, action: str, process: Process | str | None = None) -> Membership | None:
    """Returns the acting membership for process actions, None for account and admin actions.

    Raises NotAuthenticated, PermissionDenied, or Http404 (not a member of that process).
    """
    if not is_verified(user):
        raise NotAuthenticated
    if action in ADMIN_ACTIONS:
        if not user.is_site_admin:
            raise PermissionDenied
        return None
    if action in ACCOUNT_ACTIONS:
        if action == "process.start" and user.is_site_admin:
            raise PermissionDenied
        return None
    rule = PROCESS_ACTIONS[action]
    code = process.code if isinstance(process, Process) else process
    membership = (
        Membership.objects.select_related("process", "user")
        .filter(process__code=code, user=user)
        .first()
    )
    if membership is None:
        raise Http404
    if not rule.allows(membership):
        raise PermissionDenied
    return membership


def allowed(membership: Membership, action: str) -> bool:
    """For showing or hiding a control; the view behind it still calls authorize."""
    return PROCESS_ACTIONS[action].allows(membership)


def may_invite(membership: Membership, role: str) -> bool:
    return role in INVITABLE.get(membership.role, frozenset())
