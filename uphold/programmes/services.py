"""Every write to the programme directory and to a process's referrals.

- A directory row is never overwritten: an edit keeps what it said before as a
  ProgrammeVersion, and an edit made against an older revision is a conflict. The directory
  belongs to no process, so its history is that table, not a process's audit chain.
- A referral's status changes only forward in time, each change kept with its day, and X's
  stated reasons are written down at each refusal or drop.
"""

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind as AuditKind
from uphold.processes.models import Process
from uphold.processes.permissions import authorize

from .models import (
    NEEDS_REASONS,
    Kind,
    Programme,
    ProgrammeVersion,
    Referral,
    ReferralChange,
    ResearchedBy,
    Status,
)

# The longest value of each directory column, in characters.
LIMITS = {"name": 200, "region": 100, "languages": 200, "contact": 300, "notes": 2000}
MAX_REASONS = 20_000


class Conflict(Exception):
    """Someone changed the item since the actor loaded it; nothing was written."""


@dataclass
class ProgrammeData:
    name: str
    kind: str
    region: str = ""
    languages: list[str] = field(default_factory=list)
    contact: str = ""
    notes: str = ""
    hears_survivor: bool = False


def split_languages(text: str) -> list[str]:
    """ "German, English; Turkish" -> ["German", "English", "Turkish"], each once."""
    found: list[str] = []
    for part in (text or "").replace(";", ",").split(","):
        word = " ".join(part.split())
        if word and word.casefold() not in {w.casefold() for w in found}:
            found.append(word)
    return found


def match_key(name: str, region: str) -> str:
    """Two rows with the same name and region, whatever their case and spacing, are one
    programme written twice."""
    return f"{' '.join(name.split()).casefold()}|{' '.join(region.split()).casefold()}"


def _too_long(value: str, limit: int) -> str | None:
    if len(value) <= limit:
        return None
    return _("This is %(count)s characters; keep it to %(n)s.") % {
        "count": formats.number_format(len(value), force_grouping=True),
        "n": formats.number_format(limit, force_grouping=True),
    }


def clean_programme(data: ProgrammeData) -> tuple[ProgrammeData, dict[str, list[str]]]:
    """Stripped, with every problem at once by column name. Changes nothing."""
    data.name = " ".join((data.name or "").split())
    data.region = " ".join((data.region or "").split())
    data.contact, data.notes = (data.contact or "").strip(), (data.notes or "").strip()
    data.languages = split_languages(", ".join(data.languages))
    errors: dict[str, list[str]] = {}
    if not data.name:
        errors["name"] = [_("Give the programme's name.")]
    if data.kind not in Kind.values:
        errors["kind"] = [_("Choose the kind: group, one-to-one or online.")]
    values = {
        "name": data.name,
        "region": data.region,
        "languages": ", ".join(data.languages),
        "contact": data.contact,
        "notes": data.notes,
    }
    for name, value in values.items():
        if message := _too_long(value, LIMITS[name]):
            errors.setdefault(name, []).append(message)
    return data, errors


def duplicate_message(row: int | None = None) -> str:
    if row is not None:
        return _("The same name and region as row %(row)s of this file.") % {"row": row}
    return _("The directory has this programme already (the same name and region).")


def _write(programme: Programme, data: ProgrammeData) -> None:
    programme.name, programme.region, programme.kind = data.name, data.region, data.kind
    programme.languages, programme.contact, programme.notes = (
        data.languages,
        data.contact,
        data.notes,
    )
    programme.hears_survivor = data.hears_survivor
    programme.match_key = match_key(data.name, data.region)
    programme.language_key = language_key(data.languages)


def language_key(languages: list[str]) -> str:
    return "|" + "|".join(word.casefold() for word in languages) + "|" if languages else ""


def add_programme(actor: User, data: ProgrammeData) -> Programme:
    authorize(actor, "programmes.edit")
    data, errors = clean_programme(data)
    key = match_key(data.name, data.region)
    if not errors and Programme.objects.filter(match_key=key).exists():
        errors["name"] = [duplicate_message()]
    if errors:
        raise ValidationError(errors)
    programme = Programme(created_by=actor, changed_by=actor)
    _write(programme, data)
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError as error:  # the same programme added by someone else meanwhile
        raise ValidationError({"name": [duplicate_message()]}) from error
    return programme


def edit_programme(
    actor: User, programme_id: int, data: ProgrammeData, *, base_revision: int
) -> Programme:
    """Replaces a directory row's facts, keeping what it said before as a version."""
    authorize(actor, "programmes.edit")
    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        raise Http404
    data, errors = clean_programme(data)
    key = match_key(data.name, data.region)
    if not errors and Programme.objects.filter(match_key=key).exclude(pk=programme.pk).exists():
        errors["name"] = [duplicate_message()]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    try:
        with transaction.atomic():
            if not Programme.objects.filter(pk=programme.pk, revision=base_revision).update(
                revision=base_revision + 1
            ):
                raise Conflict
            ProgrammeVersion.objects.create(
                programme=programme,
                revision=base_revision,
                name=programme.name,
                region=programme.region,
                kind=programme.kind,
                languages=programme.languages,
                contact=programme.contact,
                notes=programme.notes,
                hears_survivor=programme.hears_survivor,
                written_by_id=programme.changed_by_id,
                written_at=programme.changed_at,
                replaced_by=actor,
                replaced_at=now,
            )
            _write(programme, data)
            programme.revision, programme.changed_by, programme.changed_at = (
                base_revision + 1,
                actor,
                now,
            )
            programme.save()
    except IntegrityError as error:
        raise ValidationError({"name": [duplicate_message()]}) from error
    return programme


def import_programmes(actor: User, rows: list[ProgrammeData]) -> int:
    """Adds the rows all or none: the caller (csvimport) has checked every one of them."""
    authorize(actor, "programmes.edit")
    now = timezone.now()
    made = []
    for data in rows:
        programme = Programme(created_by=actor, changed_by=actor, created_at=now, changed_at=now)
        _write(programme, data)
        made.append(programme)
    with transaction.atomic():
        Programme.objects.bulk_create(made, batch_size=500)
    return len(made)


# Referrals


@dataclass
class ReferralData:
    researched_by: str
    status: str
    on: date
    programme_id: int | None = None
    other_name: str = ""
    reasons: str = ""
    note: str = ""


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _check_day(on: date | None, errors: dict, after: date | None = None) -> None:
    if on is None:
        errors["on"] = [_("Give the day.")]
    elif on > timezone.localdate():
        errors["on"] = [_("That day is in the future; record what has happened.")]
    elif after is not None and on < after:
        errors["on"] = [
            _("The last change was on %(day)s: a change comes on that day or later.")
            % {"day": _day(after)}
        ]


def _check_reasons(status: str, reasons: str, note: str, errors: dict) -> None:
    if status in NEEDS_REASONS and not reasons:
        errors["reasons"] = [
            _(
                "Write down the reasons X gave, in his words as far as you can; if he gave "
                "none, say so."
            )
        ]
    for name, value in (("reasons", reasons), ("note", note)):
        if len(value) > MAX_REASONS:
            errors.setdefault(name, []).append(_too_long(value, MAX_REASONS))


def add_referral(actor: User, process: Process | str, data: ReferralData) -> Referral:
    """A programme considered for X: from the directory, or named here if it is not in it."""
    membership = authorize(actor, "record.write", process)
    other = " ".join((data.other_name or "").split())
    reasons, note = (data.reasons or "").strip(), (data.note or "").strip()
    errors: dict[str, list[str]] = {}
    programme = None
    if data.programme_id is not None:
        programme = Programme.objects.filter(pk=data.programme_id).first()
        if programme is None:
            errors["programme"] = [_("Choose a programme of the directory.")]
    if programme is None and not other and "programme" not in errors:
        errors["programme"] = [
            _("Choose a programme of the directory, or name one that is not in it.")
        ]
    if programme is not None and other:
        errors["other_name"] = [
            _("Either choose a programme of the directory or name another, not both.")
        ]
    if message := _too_long(other, LIMITS["name"]):
        errors["other_name"] = [message]
    if data.researched_by not in ResearchedBy.values:
        errors["researched_by"] = [_("Say who researched it: X himself or the group.")]
    if data.status not in Status.values:
        errors["status"] = [_("Choose a status from the list.")]
    _check_day(data.on, errors)
    _check_reasons(data.status, reasons, note, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        referral = Referral.objects.create(
            process=membership.process,
            programme=programme,
            researched_by=data.researched_by,
            status=data.status,
            status_on=data.on,
            created_by=actor,
        )
        if other:
            referral.other_name = other
            referral.save(update_fields=["other_name"])
        audit.record(actor, membership.process, AuditKind.CREATE, referral)
        _add_change(actor, referral, "", data.status, data.on, reasons, note, passed=False)
    return referral


def _add_change(actor, referral, before, after, on, reasons, note, *, passed) -> ReferralChange:
    change = ReferralChange.objects.create(
        referral=referral,
        process=referral.process,
        status_before=before,
        status_after=after,
        on=on,
        passed_contact_route=passed,
        by=actor,
    )
    if reasons or note:
        change.reasons, change.note = reasons, note
        change.save(update_fields=["reasons", "note"])
    audit.record(actor, referral.process, AuditKind.CREATE, change)
    return change


def change_referral(
    actor: User,
    process: Process | str,
    referral_id: int,
    *,
    status: str,
    status_seen: str,
    on: date | None,
    reasons: str = "",
    note: str = "",
    passed_contact_route: bool = False,
) -> Referral:
    """A new status as of a day (with X's reasons at a refusal or drop), or that the survivor's
    contact route was passed to the programme, or both."""
    membership = authorize(actor, "record.write", process)
    referral = Referral.objects.filter(process=membership.process, pk=referral_id).first()
    if referral is None:
        raise Http404
    reasons, note = (reasons or "").strip(), (note or "").strip()
    errors: dict[str, list[str]] = {}
    if status not in Status.values:
        errors["status"] = [_("Choose a status from the list.")]
    last = referral.changes.order_by("-on", "-pk").values_list("on", flat=True).first()
    _check_day(on, errors, after=last)
    if status != status_seen:
        _check_reasons(status, reasons, note, errors)
    elif reasons or note:
        _check_reasons("", reasons, note, errors)
    if passed_contact_route and referral.contact_route_passed:
        errors["passed_contact_route"] = [
            _("That the contact route was passed on is recorded already (%(day)s).")
            % {"day": _day(referral.contact_route_passed_on)}
        ]
    if status == status_seen and not passed_contact_route and not (reasons or note):
        errors.setdefault(
            "status", [_("Change the status, record the contact route, or write a note.")]
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        fields: dict[str, object] = {"status": status}
        if status != status_seen:
            fields["status_on"] = on
        if passed_contact_route:
            fields |= {"contact_route_passed": True, "contact_route_passed_on": on}
        if not Referral.objects.filter(pk=referral.pk, status=status_seen).update(**fields):
            raise Conflict
        referral.refresh_from_db(fields=[*fields, "status_on"])
        audit.record(actor, referral.process, AuditKind.CHANGE, referral)
        _add_change(
            actor, referral, status_seen, status, on, reasons, note, passed=passed_contact_route
        )
    return referral
