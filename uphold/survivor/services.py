"""Every write of the survivor's side's page: preferences, what is kept from whom, the items
they ask for (and the contact group's answer), and the survivor's own choice of full access.

The survivor or their support group choose the preferences and what is withheld; only the
contact group releases an item of the record, as a copy sealed under `survivor`; only the
survivor themselves chooses to read the whole record.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto.keyring import opened
from uphold.crypto.models import SealedScopeKey
from uphold.processes import scopes
from uphold.processes.models import Membership, Process, Role
from uphold.processes.permissions import authorize
from uphold.record.models import Entry, Meeting

from .models import (
    ItemRequest,
    Preferences,
    ReleasedItem,
    RequestState,
    Rhythm,
    TakingPart,
    Through,
    Withholding,
)
from .tasks import notify_contact_group_of_a_request

MAX_TEXT = 5_000  # characters of a wish, a request or an answer
# Whom something can be kept from: every role but the survivor's own side.
WITHHELD_FROM = (Role.CONTACT, Role.COMMUNITY, Role.RESPONDENT)


class Conflict(Exception):
    """Someone changed the preferences since the actor loaded them; nothing was written."""


@dataclass(frozen=True)
class Wishes:
    rhythm: str
    through: str
    taking_part: str
    content_note: bool
    avoid: str = ""


def preferences_of(process: Process) -> Preferences:
    """The saved preferences, or the defaults (unsaved, revision 0) before the first save."""
    saved = Preferences.objects.filter(process=process).first()
    return saved or Preferences(process=process, revision=0)


def _too_long(name: str, text: str) -> dict[str, list[str]]:
    if len(text) <= MAX_TEXT:
        return {}
    return {
        name: [
            _("This is %(count)s characters; keep it under %(n)s.")
            % {"count": f"{len(text):,}", "n": f"{MAX_TEXT:,}"}
        ]
    }


def save_preferences(
    actor: User, process: Process | str, wishes: Wishes, *, base_revision: int
) -> Preferences:
    membership = authorize(actor, "survivor.preferences", process)
    errors: dict[str, list[str]] = {}
    for name, choices in (("rhythm", Rhythm), ("through", Through), ("taking_part", TakingPart)):
        if getattr(wishes, name) not in choices.values:
            errors[name] = [_("Choose one of the answers in the list.")]
    avoid = (wishes.avoid or "").strip()
    errors |= _too_long("avoid", avoid)
    if errors:
        raise ValidationError(errors)
    process = membership.process
    with transaction.atomic():
        row = Preferences.objects.select_for_update().filter(process=process).first()
        if (row.revision if row else 0) != base_revision:
            raise Conflict
        created = row is None
        if created:
            row = Preferences.objects.create(process=process, revision=0)
        row.rhythm, row.through, row.taking_part = wishes.rhythm, wishes.through, wishes.taking_part
        row.content_note, row.avoid = bool(wishes.content_note), avoid
        row.revision, row.changed_by, row.changed_at = row.revision + 1, actor, timezone.now()
        row.save()
        audit.record(actor, process, Kind.CREATE if created else Kind.CHANGE, row)
    return row


def add_withholding(
    actor: User, process: Process | str, *, what: str, from_role: str = "", from_whom: str = ""
) -> Withholding:
    membership = authorize(actor, "survivor.preferences", process)
    what, from_whom = (what or "").strip(), (from_whom or "").strip()
    errors: dict[str, list[str]] = {}
    if not what:
        errors["what"] = [_("Say what must be kept from them.")]
    errors |= _too_long("what", what) | _too_long("from_whom", from_whom)
    if from_role and from_role not in WITHHELD_FROM:
        errors["from_role"] = [_("Choose a role from the list.")]
    if bool(from_role) == bool(from_whom):
        errors["from_role"] = [_("Choose a role, or name a person: one of the two.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = Withholding.objects.create(
            process=membership.process, from_role=from_role, created_by=actor
        )
        row.what, row.from_whom = what, from_whom
        row.save()
        audit.record(actor, membership.process, Kind.CREATE, row)
    return row


def remove_withholding(actor: User, process: Process | str, withholding_id: int) -> None:
    membership = authorize(actor, "survivor.preferences", process)
    row = Withholding.objects.filter(process=membership.process, pk=withholding_id).first()
    if row is None:
        raise Http404
    with transaction.atomic():
        audit.record(actor, membership.process, Kind.DELETE, row)
        row.delete()


def withheld_from(process: Process, role: str) -> list[Withholding]:
    """What the survivor's side wants kept from members of `role`, and from named people (a
    person may be anyone: the groups check those too)."""
    return list(Withholding.objects.filter(process=process, from_role__in=(role, "")))


def described(withholdings: list[Withholding], locked: str) -> list[dict]:
    """Each withholding as a page shows it: the row, what is kept, and from whom (a role by its
    name, a person in the survivor side's words; `locked` for a member without the key)."""
    return [
        {
            "row": w,
            "what": opened(lambda w=w: w.what, locked),
            "whom": w.get_from_role_display()
            if w.from_role
            else opened(lambda w=w: w.from_whom, locked),
        }
        for w in withholdings
    ]


def ask_for_item(actor: User, process: Process | str, what: str) -> ItemRequest:
    membership = authorize(actor, "survivor.request", process)
    what = (what or "").strip()
    errors = _too_long("what", what)
    if not what:
        errors["what"] = [_("Say which item you would like to read.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = ItemRequest.objects.create(process=membership.process, asked_by=actor)
        row.what = what
        row.save()
        audit.record(actor, membership.process, Kind.CREATE, row)
        code = membership.process.code
        transaction.on_commit(lambda: notify_contact_group_of_a_request.enqueue(code))
    return row


def _open_request(membership: Membership, request_id: int) -> ItemRequest:
    """The request, locked until the caller's transaction ends, if it still waits: two answers
    at once are one answer and a refusal."""
    row = (
        ItemRequest.objects.select_for_update()
        .filter(process=membership.process, pk=request_id)
        .first()
    )
    if row is None:
        raise Http404
    if row.state != RequestState.OPEN:
        raise ValidationError(_("This request was answered already."))
    return row


def release_item(
    actor: User,
    process: Process | str,
    request_id: int,
    *,
    entry_id: int | None = None,
    meeting_id: int | None = None,
) -> ReleasedItem:
    """A copy of one log entry (its summary and full text), or of one meeting's minutes, under
    `survivor`, answering the request."""
    membership = authorize(actor, "survivor.release_item", process)
    process = membership.process
    if (entry_id is None) == (meeting_id is None):
        raise ValidationError({"item": [_("Give the number of one log entry, or one meeting.")]})
    if entry_id is not None:
        entry = Entry.objects.filter(process=process, pk=entry_id).first()
        if entry is None:
            raise ValidationError({"item": [_("There is no log entry with that number here.")]})
        text = "\n\n".join(t for t in (entry.summary, entry.text) if t)
        on, source = entry.occurred_on, {"entry": entry}
    else:
        meeting = Meeting.objects.filter(process=process, pk=meeting_id).first()
        if meeting is None or not meeting.minutes:
            raise ValidationError({"item": [_("That meeting has no minutes to release.")]})
        text = meeting.minutes
        on, source = timezone.localtime(meeting.planned_at).date(), {"meeting": meeting}
    with transaction.atomic():
        request = _open_request(membership, request_id)
        copy = ReleasedItem.objects.create(
            process=process, request=request, occurred_on=on, released_by=actor, **source
        )
        copy.text = text
        copy.save()
        audit.record(actor, process, Kind.RELEASE, copy)
        request.state, request.answered_by, request.answered_at = (
            RequestState.RELEASED,
            actor,
            timezone.now(),
        )
        request.save(update_fields=["state", "answered_by", "answered_at"])
        audit.record(actor, process, Kind.CHANGE, request)
    return copy


def decline_item(actor: User, process: Process | str, request_id: int, answer: str) -> None:
    membership = authorize(actor, "survivor.release_item", process)
    answer = (answer or "").strip()
    errors = _too_long("answer", answer)
    if not answer:
        errors["answer"] = [_("Say why, in a sentence the survivor's side can read.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = _open_request(membership, request_id)
        request.state, request.answered_by, request.answered_at = (
            RequestState.DECLINED,
            actor,
            timezone.now(),
        )
        request.answer = answer
        request.save()
        audit.record(actor, membership.process, Kind.CHANGE, request)


def set_full_access(actor: User, process: Process | str, on: bool) -> Membership:
    """The survivor alone chooses to read the whole record. Turned on, a group member then
    gives them the record's key as for any key; turned off, their copy of it is deleted at once
    (and the groups are asked to replace the keys, as when someone leaves)."""
    membership = authorize(actor, "survivor.full_access", process)
    with transaction.atomic():
        row = Membership.objects.select_for_update().get(pk=membership.pk)
        if row.survivor_full_access == on:
            return row
        row.survivor_full_access = on
        row.save(update_fields=["survivor_full_access"])
        if not on:
            SealedScopeKey.objects.filter(
                scope_key__process_id=row.process_id,
                scope_key__scope=scopes.RECORD,
                user_id=row.user_id,
            ).delete()
        audit.record(actor, row.process, Kind.CHANGE, row)
    return row
