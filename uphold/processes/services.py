"""Every write to processes and memberships. Each one asks the permission function first."""

from dataclasses import dataclass, field
from datetime import date
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
from .models import EARLIEST, GroupKind, Membership, Process, ProcessGroup, Role, code_validator
from .permissions import GROUP, authorize, may_invite, own_group
from .queries import DEFAULT_TERMS

UNUSABLE_CODE = gettext_lazy("That code name cannot be used. Uphold proposes a new one.")


class Conflict(Exception):
    """Another member changed the same setting since the actor loaded it; nothing was written."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


@dataclass
class Setup:
    """How a process is set up when it starts; the defaults are the report's."""

    title: str = ""
    survivor_term: str = ""
    respondent_term: str = "X"
    meeting_every_months: int = 3
    reply_reminder_days: int = 21
    step_overdue_days: int = 7
    # When the process began, if before the day it is started in Uphold.
    started_on: date | None = None
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
    started_on = clean_started_on(setup.started_on)
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
            started_on=started_on,
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
    except rotation.HistoryBroken as error:
        raise ValidationError(
            _(
                "The process's history does not hold, so the keys were not replaced and nothing "
                "was changed. Someone may have altered the database: tell your group and the "
                "person who runs the server, who can see where with uphold verify."
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


# Settings: who owns which, and what a value may be.

WORDS = ("survivor_term", "respondent_term")
RHYTHM = ("meeting_every_months", "reply_reminder_days", "step_overdue_days")
BEGAN = ("started_on",)
PORTAL = ("portal_open",)
SETTING_ACTIONS = (
    dict.fromkeys(WORDS, "settings.words")
    | dict.fromkeys(RHYTHM, "settings.rhythm")
    | dict.fromkeys(BEGAN, "settings.began")
    | dict.fromkeys(PORTAL, "settings.portal")
)
MAX_TERM = 60
MAX_PLACE = 100
# The same bounds as the model's validators, which `start_process` checks.
LIMITS = {
    "meeting_every_months": (1, 24),
    "reply_reminder_days": (1, 365),
    "step_overdue_days": (1, 365),
}


def range_message(name: str) -> str:
    low, high = LIMITS[name]
    return _("Choose a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}


def clean_started_on(value: object) -> date | None:
    """When a process began: empty (the day it was started in Uphold), or a day that has come,
    from 2000 on."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, date):
        raise ValidationError({"started_on": [_("Enter a date, such as 2016-01-15.")]})
    if value > timezone.localdate():
        raise ValidationError({"started_on": [_("A process begins on a day that has come.")]})
    if value < EARLIEST:
        raise ValidationError({"started_on": [_("That is before 2000. Check the year.")]})
    return value


def _clean_settings(changes: dict) -> dict:
    """Stripped words, whole numbers in range and a start date; every problem at once, by
    field."""
    cleaned, errors = {}, {}
    for name, value in changes.items():
        if name in BEGAN:
            try:
                cleaned[name] = clean_started_on(value)
            except ValidationError as problem:
                errors.update(problem.message_dict)
        elif name in PORTAL:
            if not isinstance(value, bool):
                errors[name] = [_("Choose whether the portal is open.")]
            cleaned[name] = value
        elif name in WORDS:
            text = str(value or "").strip()
            if not text:
                errors[name] = [_("Write the word this process uses.")]
            elif len(text) > MAX_TERM:
                errors[name] = [_("Keep this under %(n)s characters.") % {"n": MAX_TERM}]
            cleaned[name] = text
        else:
            low, high = LIMITS[name]
            number = value if isinstance(value, int) and not isinstance(value, bool) else None
            if number is None and isinstance(value, str) and value.strip().isdigit():
                number = int(value)
            if number is None or not low <= number <= high:
                errors[name] = [range_message(name)]
            cleaned[name] = number
    if errors:
        raise ValidationError(errors)
    return cleaned


def _compare_and_swap(current: dict, wanted: dict, seen: dict | None) -> dict:
    """What to write. A value the actor left as they saw it is not theirs to write, so another
    member's change to it stays; one they changed that someone else changed too is a Conflict."""
    seen = {n: "" if v is None else str(v) for n, v in (seen or {}).items()}

    def shown(value: object) -> str:
        return "" if value is None else str(value)

    touched = {n: v for n, v in wanted.items() if n not in seen or seen[n] != shown(v)}
    changed = {n: v for n, v in touched.items() if current[n] != v}
    stale = [n for n in changed if n in seen and seen[n] != shown(current[n])]
    if stale:
        raise Conflict(stale)
    return changed


def change_settings(
    actor: User, process: Process | str, *, seen: dict | None = None, **changes
) -> list[str]:
    """Changes the process's words (survivor's side) or rhythm and reminders (contact group).

    `seen` holds the values the actor's form showed (see _compare_and_swap): a setting someone
    else changed since is a Conflict, and nothing is written. One audit event when anything
    changed, none otherwise. Returns the names of the settings that changed.
    """
    mine = authorize(actor, "settings.view", process)
    if set(changes) - set(SETTING_ACTIONS):
        raise ValidationError(_("Unknown setting."))
    for action in sorted({SETTING_ACTIONS[name] for name in changes}):
        authorize(actor, action, mine.process)
    cleaned = _clean_settings(changes)
    with transaction.atomic():
        row = Process.objects.select_for_update(no_key=True).get(pk=mine.process_id)
        current = {name: getattr(row, name) for name in cleaned}
        changed = _compare_and_swap(current, cleaned, seen)
        if changed:
            for name, value in changed.items():
                setattr(row, name, value)
            row.save(update_fields=list(changed))
            audit.record(actor, row, Kind.CHANGE, row)
    return list(changed)


def _clean_group(place: str, time_zone: str) -> tuple[str, str]:
    place, errors = (place or "").strip(), {}
    if len(place) > MAX_PLACE:
        errors["place"] = [_("Keep this under %(n)s characters.") % {"n": MAX_PLACE}]
    if time_zone not in available_timezones():
        errors["time_zone"] = [_("Choose a time zone from the list.")]
    if errors:
        raise ValidationError(errors)
    return place, time_zone


def change_group(
    actor: User,
    process: Process | str,
    group_id: int,
    *,
    place: str,
    time_zone: str,
    seen: dict | None = None,
) -> list[str]:
    """Where a group taking part is, and its time zone; each group changes only its own row.

    `seen` works as in change_settings, with the names `place` and `time_zone`. Returns the
    names of what changed.
    """
    mine = authorize(actor, "settings.group", process)
    group = ProcessGroup.objects.filter(process=mine.process, pk=group_id).first()
    if group is None:
        raise Http404
    if group.kind != own_group(mine):
        raise PermissionDenied(_("Each group changes only where it is itself."))
    place, time_zone = _clean_group(place, time_zone)
    with transaction.atomic():
        row = ProcessGroup.objects.select_for_update().get(pk=group.pk)
        current = {"place": row.place, "time_zone": row.time_zone}
        changed = _compare_and_swap(current, {"place": place, "time_zone": time_zone}, seen)
        if changed:
            for name, value in changed.items():
                setattr(row, name, value)
            row.save(update_fields=list(changed))
            audit.record(actor, mine.process, Kind.CHANGE, row)
    return list(changed)


def add_group(actor: User, process: Process | str, *, place: str, time_zone: str) -> ProcessGroup:
    """The actor's own group says where it is, if it did not when the process started."""
    mine = authorize(actor, "settings.group", process)
    kind = own_group(mine)
    if kind is None:
        raise PermissionDenied(_("Each group changes only where it is itself."))
    place, time_zone = _clean_group(place, time_zone)
    with transaction.atomic():
        # Serialises two members adding their group at the same moment (as audit.record does).
        Process.objects.select_for_update(no_key=True).filter(pk=mine.process_id).first()
        if ProcessGroup.objects.filter(process=mine.process, kind=kind).exists():
            raise ValidationError(_("Your group is listed already; change it instead."))
        group = ProcessGroup.objects.create(process=mine.process, kind=kind, time_zone=time_zone)
        group.place = place
        group.save(update_fields=["place"])
        audit.record(actor, mine.process, Kind.CREATE, group)
    return group
