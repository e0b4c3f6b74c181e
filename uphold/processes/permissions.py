"""The one permission function. Every view and every service asks `authorize`.

Read actions are granted by scope (see scopes.py); write actions name their roles.
A process a user is not a member of does not exist for them: 404, never 403.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from uphold.accounts.models import Invitation

from . import scopes
from .models import GroupKind, Membership, Process, Role


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
# X reads his portal (uphold/portal/) and nothing else of a process: not the overview, not the
# letter, not the words the process chose for the survivor.
NOT_X = frozenset(Role.values) - {Role.RESPONDENT}
X = frozenset({Role.RESPONDENT})
# The demands belong to the survivor's side: the survivor and their support group.
SURVIVOR_SIDE = frozenset({Role.SURVIVOR, Role.SUPPORT})

PROCESS_ACTIONS = {
    "process.view": Reads(scopes.SHARED),  # X's is his portal: the overview sends him there
    "process.overview": Roles(NOT_X),
    "members.view": Reads(scopes.RECORD),
    "members.invite": Roles(GROUP),
    "members.remove": Roles(GROUP),
    "members.grant": Roles(GROUP),
    # Withdrawing an unused link: also only for a role the member may invite (INVITABLE).
    "members.withdraw": Roles(GROUP),
    "keys.rotate": Roles(GROUP),
    "audit.view": Reads(scopes.RECORD),
    "documents.view": Reads(scopes.RECORD),
    "documents.upload": Roles(GROUP),
    "demands.view": Roles(NOT_X),  # X reads his demands, with their criteria, in his portal
    "demands.history": Reads(scopes.SURVIVOR),
    "demands.author": Roles(SURVIVOR_SIDE),
    "demands.propose": Roles(SURVIVOR_SIDE | {Role.CONTACT}),
    "demands.decide": Roles(SURVIVOR_SIDE),
    "demands.progress": Roles(SURVIVOR_SIDE | {Role.CONTACT}),
    "demands.answers": Reads(scopes.RECORD),
    "demands.answer": Roles(GROUP),
    # X's reflections and the contact group's reviews of them (uphold/reflections/): the
    # record's; a review released to the survivor's side is read in the survivor's scope.
    "reflections.view": Reads(scopes.RECORD),
    "reflections.write": Roles(frozenset({Role.CONTACT})),
    "reviews.release": Roles(frozenset({Role.CONTACT})),
    "reviews.released": Reads(scopes.SURVIVOR),
    "letter.edit": Roles(SURVIVOR_SIDE),
    # Whoever handed it over may say so: the survivor's side, or the contact group for X.
    "letter.hand_over": Roles(SURVIVOR_SIDE | {Role.CONTACT}),
    "record.view": Reads(scopes.RECORD),
    # Where the process stands (uphold/figures.py): counted from the record's clear columns,
    # so shown to those who read the record: the dashboard and `uphold stats`.
    "figures.view": Reads(scopes.RECORD),
    # A report (uphold/reports/) is made from the record, so exported by those who read it.
    "reports.export": Reads(scopes.RECORD),
    # A report-back is released to the community group by the contact group that wrote it; an
    # update to the survivor by the support group, who know what the survivor wants to hear.
    "reports.release": Roles(GROUP),
    # The group's own words in a report are drafted under the record by either group: the
    # contact group writes the report-back, the support group words the survivor's update.
    "reports.draft": Roles(GROUP),
    "reports.release_community": Roles(frozenset({Role.CONTACT})),
    "reports.release_survivor": Roles(frozenset({Role.SUPPORT})),
    # The released reports: each member reads those of the scopes their role reads (the
    # community group its report-backs, the survivor's side its updates; X none).
    "reports.released": Roles(NOT_X),
    # X's portal: his demands, his steps, his next meeting, the confirmations sent to him, and
    # a form whose text is sealed to the process inbox. The group files what he sent into the
    # log; either group opens or closes the portal.
    # The survivor's page (uphold/survivor/): the survivor and their support group; what the
    # survivor's side wishes is read by the groups too, who act on it.
    "survivor.view": Roles(SURVIVOR_SIDE),
    "survivor.preferences": Roles(SURVIVOR_SIDE),
    "survivor.wishes": Reads(scopes.SURVIVOR),
    "survivor.request": Roles(SURVIVOR_SIDE),
    "survivor.requests": Roles(GROUP),
    "survivor.release_item": Roles(frozenset({Role.CONTACT})),
    # Only the survivor chooses to read the whole record; nobody chooses it for them.
    "survivor.full_access": Roles(frozenset({Role.SURVIVOR})),
    "portal.view": Roles(X),
    "portal.send": Roles(X),
    "portal.file": Roles(GROUP),
    "record.write": Roles(frozenset({Role.CONTACT})),
    # Mail brought into the log (uphold/mailin/): the contact group's, who keep the record of
    # contact; the parties' addresses, the imports and their undoing.
    "mail.view": Roles(frozenset({Role.CONTACT})),
    "mail.addresses": Roles(frozenset({Role.CONTACT})),
    "mail.import": Roles(frozenset({Role.CONTACT})),
    "calendar.feed": Reads(scopes.RECORD),
    # The overview shows each role what is theirs: the meeting rhythm and the reminders are
    # the record's; the words chosen for the people involved, the survivor's side's and the
    # group's. X and the community group see neither.
    "process.settings": Reads(scopes.RECORD),
    "process.words": Reads(scopes.SURVIVOR),
    # The settings page; each of its sections is a write action of its own below.
    "settings.view": Roles(SURVIVOR_SIDE | {Role.CONTACT}),
    # The survivor names how they are called, and how the person who did harm is called.
    "settings.words": Roles(SURVIVOR_SIDE),
    # Meeting rhythm and reminder thresholds are the contact group's working rhythm.
    "settings.rhythm": Roles(frozenset({Role.CONTACT})),
    # When the process began, for a group that brings its history: either group knows it.
    "settings.began": Roles(GROUP),
    # Where a group is and its time zone; each group changes only its own row (OWN_GROUP).
    "settings.group": Roles(GROUP),
    "settings.portal": Roles(GROUP),
}
ACCOUNT_ACTIONS = {"account.use", "process.start"}
ADMIN_ACTIONS = {"admin.accounts", "admin.health"}

# Server actions: shared by every process of the server, so they belong to no process. The
# programme directory is kept by its members: whoever is in a support or contact group of at
# least one process reads and keeps it; nobody else (X, survivors, community groups, the site
# admin, an account in no process).
SERVER_ACTIONS: dict[str, frozenset[str]] = {
    "programmes.view": GROUP,
    "programmes.edit": GROUP,
}

# Which roles a member of each role may invite into their process.
INVITABLE: dict[str, frozenset[str]] = {
    Role.SUPPORT: frozenset(Role.values),
    Role.CONTACT: frozenset({Role.CONTACT, Role.COMMUNITY, Role.RESPONDENT}),
}

# The group taking part that a member of each role speaks for.
OWN_GROUP: dict[str, str] = {Role.SUPPORT: GroupKind.SUPPORT, Role.CONTACT: GroupKind.CONTACT}


def is_verified(user) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and user.is_active and verified and verified())


def authorize(user, action: str, process: Process | str | None = None) -> Membership | None:
    """Returns the acting membership for process actions, None for account, server and admin
    actions.

    Raises NotAuthenticated, PermissionDenied, or Http404 (not a member of that process).
    """
    if not is_verified(user):
        raise NotAuthenticated
    if action in ADMIN_ACTIONS:
        if not user.is_site_admin:
            raise PermissionDenied
        return None
    if action in ACCOUNT_ACTIONS:
        if action == "process.start" and not may_start_process(user):
            raise PermissionDenied
        return None
    if action in SERVER_ACTIONS:
        if not may_on_server(user, action):
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


def may_start_process(user) -> bool:
    """A process is started as its support or contact group. So it is open to an account made
    to start one (no process yet) and to anyone who is, or was invited as, such a group member;
    never to the site admin, nor to someone who is in Uphold only as a survivor, the community
    group or the person who did harm (X's account stays a narrow portal)."""
    if user.is_site_admin:
        return False
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    roles |= set(
        Invitation.objects.filter(used_by=user).exclude(role="").values_list("role", flat=True)
    )
    return not roles or bool(roles & GROUP)


def may_on_server(user, action: str) -> bool:
    """A server action: a member of at least one process in one of the action's roles."""
    if user.is_site_admin:
        return False
    return Membership.objects.filter(user=user, role__in=SERVER_ACTIONS[action]).exists()


def allowed(membership: Membership, action: str) -> bool:
    """For showing or hiding a control; the view behind it still calls authorize."""
    return PROCESS_ACTIONS[action].allows(membership)


def may_invite(membership: Membership, role: str) -> bool:
    return role in INVITABLE.get(membership.role, frozenset())


def own_group(membership: Membership) -> str | None:
    """The kind of ProcessGroup row this member may change, if any."""
    return OWN_GROUP.get(membership.role)
