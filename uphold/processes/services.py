"""Every write to processes and memberships. Each one asks the permission function first."""

from dataclasses import dataclass, field
from zoneinfo import available_timezones

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from uphold.accounts.models import Invitation, User
from uphold.accounts.services import make_invitation
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto import keyring, rotation
from uphold.crypto import services as crypto

from . import scopes
from .models import GroupKind, Membership, Process, ProcessGroup, Role, code_validator
from .permissions import GROUP, authorize, may_invite
from .queries import DEFAULT_TERMS

UNUSABLE_CODE = gettext_lazy("That code name cannot be used. Uphold proposes a new one.")


@dataclass
class Setup:
    """How a process is set up when it starts; the defaults are the report's."""

    title: str = ""
    survivor_term: str = ""
    respondent_term: str = "X"
    meeting_every_months: int = 3
    reply_reminder_days: int = 21
    step_overdue_days: int = 7
    # (kind, place, time zone) of each group taking part.
    groups: list[tuple[str, str, str]] = field(default_factory=list)


def start_process(
    actor: User, code: str, role: str, setup: Setup | None = None, *, is_sample: bool = False
) -> Process:
    """A support or contact member starts a process and becomes its first member.

    Every scope gets its key, sealed to the founder, who then grants the others.
    """
    authorize(actor, "process.start")
    setup = setup or Setup()
    if role not in GROUP:
        raise ValidationError(_("Start a process as a member of the support or contact group."))
    try:
        code_validator(code)
    except ValidationError as error:
        raise ValidationError(UNUSABLE_CODE, code="code") from error
    for kind, _place, zone in setup.groups:
        if kind not in GroupKind.values or zone not in available_timezones():
            raise ValidationError(_("Choose a group and a time zone from the lists."))
    with transaction.atomic():
        if Process.objects.filter(code=code).exists():
            # Worded as any other refusal of a code name: a non-member must not learn "taken".
            raise ValidationError(UNUSABLE_CODE, code="code")
        process = Process(
            code=code,
            is_sample=is_sample,
            meeting_every_months=setup.meeting_every_months,
            reply_reminder_days=setup.reply_reminder_days,
            step_overdue_days=setup.step_overdue_days,
        )
        # The code name is checked above, so that no other wording can say "taken".
        process.full_clean(exclude=["code", "title", "survivor_term", "respondent_term"])
        try:
            with transaction.atomic():
                process.save()
        except IntegrityError as error:  # the same name, started at the same moment
            raise ValidationError(UNUSABLE_CODE, code="code") from error
        founder = add_member(process, actor, role)
        crypto.create_process_keys(process, founder, keyring.current())
        process.title = setup.title.strip()
        process.survivor_term = setup.survivor_term or str(DEFAULT_TERMS["survivor"])
        process.respondent_term = setup.respondent_term or str(DEFAULT_TERMS["respondent"])
        process.save(update_fields=["title", "survivor_term", "respondent_term"])
        audit.record(actor, process, Kind.CREATE, process)
        for kind, place, zone in setup.groups:
            group = ProcessGroup.objects.create(process=process, kind=kind, time_zone=zone)
            group.place = place
            group.save(update_fields=["place"])
            audit.record(actor, process, Kind.CREATE, group)
    return process


def add_member(process: Process, user: User, role: str) -> Membership:
    """Only called by services that have already checked who may add whom."""
    if user.is_site_admin:
        raise ValidationError(_("A site admin account cannot be a member of a process."))
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    membership = Membership.objects.create(process=process, user=user, role=role)
    audit.record(user, process, Kind.CREATE, membership)
    return membership


def invite_member(actor: User, process: Process | str, role: str) -> tuple[Invitation, str]:
    membership = authorize(actor, "members.invite", process)
    if not may_invite(membership, role):
        raise PermissionDenied(_("Your role cannot invite someone in that role."))
    return make_invitation(actor, process=membership.process, role=role)


def remove_member(actor: User, process: Process | str, membership_id: int) -> None:
    mine = authorize(actor, "members.remove", process)
    target = Membership.objects.filter(process=mine.process, pk=membership_id).first()
    if target is None:
        raise Http404
    if target == mine:
        raise ValidationError(_("You cannot remove yourself."))
    if not may_invite(mine, target.role):
        raise PermissionDenied(_("Your role cannot remove someone in that role."))
    with transaction.atomic():
        crypto.revoke(target)
        audit.record(actor, mine.process, Kind.DELETE, target)
        target.delete()


def rotate_keys(actor: User, process: Process | str, progress=lambda line: None):
    """Replaces every scope key the actor holds, or finishes a rotation that was interrupted."""
    mine = authorize(actor, "keys.rotate", process)
    ring = keyring.current()
    held = [s for s in scopes.READERS if ring.holds(mine.process.pk, s)]
    try:
        return rotation.run(ring, mine.process, held, actor, progress)
    except rotation.KeyDoesNotOpen as error:
        raise ValidationError(
            _(
                "A key you hold does not open what is stored in this process, so the keys were "
                "not replaced and nothing was changed. Someone may have altered the database: "
                "tell your group and the person who runs the server."
            )
        ) from error


def grant_access(
    actor: User, process: Process | str, membership_id: int, fingerprint: str
) -> list[str]:
    """The actor seals to a member the scope keys their role reads; returns what is missing.

    The fingerprint must be the one the actor checked with the person.
    """
    mine = authorize(actor, "members.grant", process)
    target = Membership.objects.filter(process=mine.process, pk=membership_id).first()
    if target is None:
        raise Http404
    with transaction.atomic():
        missing = crypto.grant(keyring.current(), target, fingerprint)
        audit.record(actor, mine.process, Kind.GRANT, target)
    return missing


def withdraw_invitation(actor: User, process: Process | str, invitation_id: int) -> Invitation:
    """An unused link stops working at once; whoever holds it is told it has expired.

    Only a member who may invite someone in the link's role withdraws it.
    """
    mine = authorize(actor, "members.withdraw", process)
    invitation = Invitation.objects.filter(process=mine.process, pk=invitation_id).first()
    if invitation is None:
        raise Http404
    if not may_invite(mine, invitation.role):
        raise PermissionDenied(_("Your role cannot withdraw a link for that role."))
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-swap against a link being used at this moment (accepting locks the row).
        withdrawn = Invitation.objects.filter(
            pk=invitation.pk, used_at__isnull=True, withdrawn_at__isnull=True, expires_at__gt=now
        ).update(withdrawn_at=now)
        if not withdrawn:
            raise ValidationError(
                _("This link was used, has expired or was withdrawn already; nothing changed.")
            )
        invitation.refresh_from_db()
        audit.record(actor, mine.process, Kind.REVOKE, invitation)
    return invitation
