"""Every write to the record: log entries, meetings, steps and confirmations to X.

- An entry is never overwritten: an edit keeps the earlier text as an EntryVersion, and an edit
  made against an older revision is a conflict.
- A meeting's outcome is recorded once. A held or missed meeting writes its log entry, so
  contact health, computed from the log, counts it.
- A step X owns is never handed to the group without a recorded reason.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formatdate

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import make_msgid
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto.fields import checking_keys_once
from uphold.demands.models import Demand
from uphold.people.models import Person
from uphold.processes.models import EARLIEST, Membership, Process, Role
from uphold.processes.permissions import authorize
from uphold.processes.queries import meeting_zone, terms_of

from . import calendar, health
from .models import (
    Channel,
    Confirmation,
    Direction,
    Entry,
    EntryKind,
    EntryVersion,
    Meeting,
    Outcome,
    Owner,
    SendState,
    Step,
    StepChange,
    StepStatus,
    Tag,
)

MAX_SUMMARY = 500
MAX_TEXT = 200_000
MAX_NOTE = 20_000
MAX_STEP = 2_000
MAX_STEPS_AT_ONCE = 20
# A confirmation left "being sent" this long (the server stopped mid-send) may be sent again.
SENDING_STALE = timedelta(minutes=10)
# Meetings are planned at most this far ahead.
PLAN_AHEAD = timedelta(days=2 * 366)


class Conflict(Exception):
    """Someone changed the item since the actor loaded it; nothing was written."""


class FutureDate(ValidationError):
    """A past event dated in the future: a warning the member may confirm."""


@dataclass
class EntryData:
    occurred_on: date
    kind: str
    summary: str
    direction: str = Direction.NONE
    channel: str = ""
    by: User | None = None
    text: str = ""
    people: str = ""
    tags: list[str] = field(default_factory=list)
    demand_numbers: list[int] = field(default_factory=list)
    around: list[int] = field(default_factory=list)  # ids of people and circles around X


def _too_long(name: str, value: str, limit: int) -> dict[str, list[str]]:
    if len(value) <= limit:
        return {}
    return {
        name: [
            _("This is %(count)s characters; keep it under %(n)s.")
            % {"count": f"{len(value):,}", "n": f"{limit:,}"}
        ]
    }


def _group_members(process: Process) -> set[int]:
    return set(
        Membership.objects.filter(
            process=process, role__in=[Role.SUPPORT, Role.CONTACT]
        ).values_list("user_id", flat=True)
    )


def clean_entry(process: Process, data: EntryData, confirm_future: bool) -> EntryData:
    """Stripped and checked; every problem at once, by field. Changes nothing."""
    data.summary, data.text, data.people = (
        (data.summary or "").strip(),
        (data.text or "").strip(),
        (data.people or "").strip(),
    )
    errors: dict[str, list[str]] = {}
    if data.kind not in EntryKind.values:
        errors["kind"] = [_("Choose what happened from the list.")]
    if data.channel and data.channel not in Channel.values:
        errors["channel"] = [_("Choose how from the list.")]
    if data.direction not in Direction.values:
        errors["direction"] = [_("Choose a direction from the list.")]
    unknown = [t for t in data.tags if t not in Tag.values]
    if unknown:
        errors["tags"] = [_("Choose tags from the list.")]
    if not data.summary:
        errors["summary"] = [_("Say in a few words what happened.")]
    errors |= _too_long("summary", data.summary, MAX_SUMMARY)
    errors |= _too_long("text", data.text, MAX_TEXT)
    errors |= _too_long("people", data.people, MAX_NOTE)
    if data.by is not None and data.by.pk not in _group_members(process):
        errors["by"] = [_("Choose someone from the group.")]
    numbers = set(data.demand_numbers)
    known = set(
        Demand.objects.filter(process=process, number__in=numbers).values_list("number", flat=True)
    )
    if numbers - known:
        errors["demands"] = [_("Choose demands of this process.")]
    data.around = sorted(set(data.around))
    if (
        data.around
        and len(data.around) != Person.objects.filter(process=process, pk__in=data.around).count()
    ):
        errors["around"] = [_("Choose people and circles of this process.")]
    if errors:
        raise ValidationError(errors)
    if data.occurred_on > timezone.localdate() and not confirm_future:
        raise FutureDate(
            {
                "occurred_on": [
                    _(
                        "That date is in the future, but the log records what has happened. "
                        "Check the date; if it is right, tick the box below and save again."
                    )
                ]
            },
        )
    data.tags = [t for t in Tag.values if t in set(data.tags)]
    data.demand_numbers = sorted(numbers)
    return data


def _entry(membership: Membership, entry_id: int) -> Entry:
    entry = Entry.objects.filter(process=membership.process, pk=entry_id).first()
    if entry is None:
        raise Http404
    return entry


def _write_entry(entry: Entry, data: EntryData) -> None:
    entry.occurred_on, entry.kind, entry.channel = data.occurred_on, data.kind, data.channel
    entry.direction, entry.by, entry.tags = data.direction, data.by, data.tags
    new = entry.pk is None
    if new:
        entry.save()  # sealed fields are bound to the row, so it needs its id first
    entry.summary, entry.text, entry.people = data.summary, data.text, data.people
    entry.save()
    if not new or data.demand_numbers:
        entry.demands.set(
            Demand.objects.filter(process=entry.process, number__in=data.demand_numbers)
        )
    if not new or data.around:
        entry.around.set(data.around)  # checked to be this process's by clean_entry


def add_entry(
    actor: User, process: Process | str, data: EntryData, *, confirm_future: bool = False
) -> Entry:
    return add_entries(actor, process, [data], confirm_future=confirm_future)[0]


def add_entries(
    actor: User, process: Process | str, entries: list[EntryData], *, confirm_future: bool = False
) -> list[Entry]:
    """Adds the entries all or none, checking each before any is written. What is the same for
    every entry (the member's right, the keys, the chain's head, contact health) is done once
    for all of them, so a batch (an import, `uphold generate`) costs two queries an entry."""
    membership = authorize(actor, "record.write", process)
    cleaned = [clean_entry(membership.process, data, confirm_future) for data in entries]
    written = []
    with transaction.atomic(), checking_keys_once():
        for data in cleaned:
            entry = Entry(process=membership.process, created_by=actor)
            _write_entry(entry, data)
            written.append(entry)
        audit.record_many(actor, membership.process, Kind.CREATE, written)
        health.entries_added(membership.process.pk, written)
    return written


def edit_entry(
    actor: User,
    process: Process | str,
    entry_id: int,
    data: EntryData,
    *,
    base_revision: int,
    why: str = "",
    confirm_future: bool = False,
) -> Entry:
    """Replaces an entry's content, keeping what it said before as a version."""
    membership = authorize(actor, "record.write", process)
    entry = _entry(membership, entry_id)
    data = clean_entry(membership.process, data, confirm_future)
    why = (why or "").strip()
    if errors := _too_long("why", why, MAX_NOTE):
        raise ValidationError(errors)
    with transaction.atomic():
        if not Entry.objects.filter(pk=entry.pk, revision=base_revision).update(
            revision=base_revision + 1
        ):
            raise Conflict
        version = EntryVersion.objects.create(
            entry=entry,
            process=entry.process,
            revision=base_revision,
            occurred_on=entry.occurred_on,
            kind=entry.kind,
            channel=entry.channel,
            direction=entry.direction,
            by=entry.by,
            tags=entry.tags,
            demand_numbers=sorted(entry.demands.values_list("number", flat=True)),
            around_ids=sorted(entry.around.values_list("pk", flat=True)),
            replaced_by=actor,
        )
        version.summary, version.text, version.people, version.why = (
            entry.summary,
            entry.text,
            entry.people,
            why,
        )
        version.save()
        audit.record(actor, entry.process, Kind.CREATE, version)
        entry.revision = base_revision + 1
        _write_entry(entry, data)
        audit.record(actor, entry.process, Kind.CHANGE, entry)
        health.refold(entry.process_id)
    return entry


def attach(actor: User, process: Process | str, entry_id: int, attachment) -> None:
    """Links a stored document (in the `record` scope) to an entry."""
    membership = authorize(actor, "record.write", process)
    entry = _entry(membership, entry_id)
    if attachment.process_id != entry.process_id or attachment.scope != "record":
        raise ValidationError(_("That document belongs elsewhere."))
    with transaction.atomic():
        entry.attachments.add(attachment)
        audit.record(actor, entry.process, Kind.CHANGE, entry)


# Meetings


def suggested_meeting_date(process: Process, today: date | None = None) -> date:
    """The process cadence after the latest meeting held or still planned, else after today."""
    today = today or timezone.localdate()
    last = (
        Meeting.objects.filter(process=process, outcome__in=[Outcome.HELD, ""], x_expected=True)
        .order_by("-planned_at")
        .values_list("planned_at", flat=True)
        .first()
    )
    start = timezone.localtime(last).date() if last else today
    months = process.meeting_every_months
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    for day in (start.day, 30, 29, 28):
        try:
            suggested = date(year, month, day)
            break
        except ValueError:
            continue
    return max(suggested, today)


def plan_meeting(
    actor: User,
    process: Process | str,
    *,
    planned_at: datetime,
    place: str,
    attendees: list[User],
    x_expected: bool = True,
) -> Meeting:
    membership = authorize(actor, "record.write", process)
    place = (place or "").strip()
    errors = _too_long("place", place, MAX_SUMMARY)
    group = _group_members(membership.process)
    if any(user.pk not in group for user in attendees):
        errors["attendees"] = [_("Choose people from the group.")]
    if planned_at < timezone.now() - timedelta(days=1):
        errors["planned_at"] = [
            _("That is in the past. Plan a meeting ahead, or log a past one in the log.")
        ]
    elif planned_at > timezone.now() + PLAN_AHEAD:
        errors["planned_at"] = [_("That is more than two years ahead. Check the year.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            process=membership.process,
            planned_at=planned_at,
            x_expected=x_expected,
            created_by=actor,
        )
        meeting.place = place
        meeting.save()
        meeting.attendees.set(attendees)
        audit.record(actor, membership.process, Kind.CREATE, meeting)
        calendar.share_place(meeting)
    return meeting


@dataclass
class StepData:
    owner: str
    what: str
    due_on: date | None
    demand_number: int | None = None
    # When it was agreed (the meeting's day for a step agreed at one; else today) and, for a
    # step entered after the fact, how it turned out.
    agreed_on: date | None = None
    status: str = StepStatus.OPEN


def _clean_step(process: Process, data: StepData, name: str = "") -> tuple[StepData, dict]:
    errors: dict[str, list[str]] = {}
    data.what = (data.what or "").strip()
    if data.owner not in Owner.values:
        errors[f"{name}owner"] = [_("Choose who does it.")]
    if not data.what:
        errors[f"{name}what"] = [_("Say what is to be done.")]
    errors |= _too_long(f"{name}what", data.what, MAX_STEP)
    if data.due_on is None:
        errors[f"{name}due_on"] = [_("Give a due date.")]
    if data.status not in StepStatus.values:
        errors[f"{name}status"] = [_("Choose a status from the list.")]
    if data.agreed_on is not None and data.agreed_on > timezone.localdate():
        errors[f"{name}agreed_on"] = [_("A step is agreed on a day that has come.")]
    elif data.agreed_on is not None and data.agreed_on < EARLIEST:
        errors[f"{name}agreed_on"] = [_("That is before 2000. Check the year.")]
    if data.agreed_on and data.due_on and data.due_on < data.agreed_on:
        errors[f"{name}due_on"] = [_("The due date is before the day it was agreed.")]
    if (
        data.demand_number is not None
        and not Demand.objects.filter(process=process, number=data.demand_number).exists()
    ):
        errors[f"{name}demand"] = [_("Choose a demand of this process.")]
    return data, errors


def _create_step(actor: User, process: Process, data: StepData, meeting=None) -> Step:
    step = Step.objects.create(
        process=process,
        meeting=meeting,
        demand=Demand.objects.filter(process=process, number=data.demand_number).first()
        if data.demand_number
        else None,
        owner=data.owner,
        agreed_on=data.agreed_on
        or (_local_day(meeting.planned_at) if meeting else timezone.localdate()),
        due_on=data.due_on,
        status=data.status,
        created_by=actor,
    )
    if data.owner == Owner.X:
        step.what_x = data.what
    else:
        step.what_group = data.what
    step.save()
    audit.record(actor, process, Kind.CREATE, step)
    return step


def record_outcome(
    actor: User,
    process: Process | str,
    meeting_id: int,
    *,
    outcome: str,
    minutes: str,
    steps: list[StepData] = (),
) -> Meeting:
    """Once per meeting. Held or missed, it is written to the log; steps are agreed with it."""
    membership = authorize(actor, "record.write", process)
    meeting = Meeting.objects.filter(process=membership.process, pk=meeting_id).first()
    if meeting is None:
        raise Http404
    minutes = (minutes or "").strip()
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = [_("Choose what happened from the list.")]
    errors |= _too_long("minutes", minutes, MAX_TEXT)
    happened = outcome in (Outcome.HELD, Outcome.NO_SHOW)
    zone = meeting_zone(membership.process)
    if happened and _local_day(meeting.planned_at, membership.process) > timezone.localdate(
        timezone=zone
    ):
        errors["outcome"] = [
            _("This meeting is still to come. Record whether it was held once its day has come.")
        ]
    if steps and outcome != Outcome.HELD:
        errors["steps"] = [_("Steps are agreed at a meeting that was held.")]
    if len(steps) > MAX_STEPS_AT_ONCE:
        errors["steps"] = [_("Add at most %(n)s steps at once.") % {"n": MAX_STEPS_AT_ONCE}]
    cleaned = []
    for i, step in enumerate(steps):
        step, step_errors = _clean_step(membership.process, step, f"step-{i}-")
        errors |= step_errors
        cleaned.append(step)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if not Meeting.objects.filter(pk=meeting.pk, outcome="").update(
            outcome=outcome, outcome_by=actor, outcome_at=timezone.now()
        ):
            raise ValidationError(
                _("The outcome of this meeting is already recorded. Nothing was changed.")
            )
        meeting.refresh_from_db(fields=["outcome", "outcome_by", "outcome_at"])
        meeting.minutes = minutes
        # A meeting with X is contact with him; the log (and contact health) counts it.
        if happened and meeting.x_expected:
            meeting.entry = _meeting_entry(
                actor, meeting, _local_day(meeting.planned_at, membership.process)
            )
        meeting.save(update_fields=["minutes", "entry"])
        audit.record(actor, meeting.process, Kind.CHANGE, meeting)
        health.refold(meeting.process_id)
        for step in cleaned:
            _create_step(actor, meeting.process, step, meeting)
    return meeting


def _local_day(moment: datetime, process: Process | None = None) -> date:
    """The day of a moment where the process's meetings happen (else the current zone)."""
    zone = meeting_zone(process) if process is not None else timezone.get_current_timezone()
    return timezone.localtime(moment, zone).date()


def record_past_meeting(
    actor: User,
    process: Process | str,
    *,
    held_at: datetime,
    outcome: str,
    place: str = "",
    attendees: list[User] = (),
    x_expected: bool = True,
    minutes: str = "",
    steps: list[StepData] = (),
) -> Meeting:
    """A meeting that already happened, entered after the fact: its day, what happened, who
    went, the minutes and the steps agreed at it.

    Contact health counts each meeting with X once however it was entered: a "meeting held" or
    "meeting missed" log entry of that day not yet tied to a meeting becomes this meeting's
    entry; otherwise one is written, as when an outcome is recorded.
    """
    membership = authorize(actor, "record.write", process)
    process = membership.process
    place, minutes = (place or "").strip(), (minutes or "").strip()
    errors: dict[str, list[str]] = _too_long("place", place, MAX_SUMMARY)
    errors |= _too_long("minutes", minutes, MAX_TEXT)
    if outcome not in Outcome.values:
        errors["outcome"] = [_("Choose what happened from the list.")]
    if held_at > timezone.now():
        errors["held_at"] = [
            _("That is still to come. Plan a meeting that is ahead; enter one that has happened.")
        ]
    elif _local_day(held_at, process) < EARLIEST:
        errors["held_at"] = [_("That is before 2000. Check the year.")]
    group = _group_members(process)
    if any(user.pk not in group for user in attendees):
        errors["attendees"] = [_("Choose people from the group.")]
    if steps and outcome != Outcome.HELD:
        errors["steps"] = [_("Steps are agreed at a meeting that was held.")]
    if len(steps) > MAX_STEPS_AT_ONCE:
        errors["steps"] = [_("Add at most %(n)s steps at once.") % {"n": MAX_STEPS_AT_ONCE}]
    day = _local_day(held_at, process) if "held_at" not in errors else None
    cleaned = []
    for i, step in enumerate(steps):
        step.agreed_on = step.agreed_on or day
        step, step_errors = _clean_step(process, step, f"step-{i}-")
        errors |= step_errors
        cleaned.append(step)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            process=process,
            planned_at=held_at,
            x_expected=x_expected,
            outcome=outcome,
            outcome_by=actor,
            outcome_at=timezone.now(),
            created_by=actor,
        )
        meeting.place = place
        meeting.minutes = minutes
        meeting.attendees.set(attendees)
        if x_expected and outcome in (Outcome.HELD, Outcome.NO_SHOW):
            meeting.entry = _meeting_entry(actor, meeting, day)
        meeting.save()
        audit.record(actor, process, Kind.CREATE, meeting)
        health.refold(process.pk)
        for step in cleaned:
            _create_step(actor, process, step, meeting)
    return meeting


def _meeting_entry(actor: User, meeting: Meeting, day: date) -> Entry:
    """The log entry of a meeting with X that happened: one already in the log for that day
    (entered by hand before the meeting was), or a new one."""
    kind = EntryKind.MEETING_HELD if meeting.outcome == Outcome.HELD else EntryKind.MEETING_MISSED
    # Not an outer join (PostgreSQL locks no nullable side of one): entries no meeting holds.
    held = Meeting.objects.filter(process=meeting.process, entry__isnull=False).values("entry_id")
    entry = (
        Entry.objects.select_for_update()
        .filter(process=meeting.process, occurred_on=day, kind=kind)
        .exclude(pk__in=held)
        .order_by("pk")
        .first()
    )
    if entry is not None:
        return entry
    entry = Entry(process=meeting.process, created_by=actor)
    _write_entry(
        entry,
        EntryData(
            occurred_on=day,
            kind=kind,
            channel=Channel.IN_PERSON,
            direction=Direction.NONE,
            by=actor,
            summary="",  # the kind says it all; the minutes stay with the meeting
            tags=[] if meeting.outcome == Outcome.HELD else [Tag.NO_REPLY],
        ),
    )
    audit.record(actor, meeting.process, Kind.CREATE, entry)
    return entry


# Steps


def add_step(actor: User, process: Process | str, data: StepData) -> Step:
    membership = authorize(actor, "record.write", process)
    data, errors = _clean_step(membership.process, data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return _create_step(actor, membership.process, data)


def change_step(
    actor: User,
    process: Process | str,
    step_id: int,
    *,
    owner: str,
    status: str,
    reason: str,
    evidence: str,
    owner_seen: str,
    status_seen: str,
) -> Step:
    """A new status or owner, with the reason. X's step goes to the group only with a reason."""
    membership = authorize(actor, "record.write", process)
    step = Step.objects.filter(process=membership.process, pk=step_id).first()
    if step is None:
        raise Http404
    reason, evidence = (reason or "").strip(), (evidence or "").strip()
    errors: dict[str, list[str]] = {}
    if owner not in Owner.values:
        errors["owner"] = [_("Choose who does it.")]
    if status not in StepStatus.values:
        errors["status"] = [_("Choose a status from the list.")]
    if owner_seen == Owner.X and owner == Owner.GROUP and not reason:
        errors["reason"] = [
            _(
                "This step is X's to do. Say why the group should take it over: that is "
                "recorded, so it never moves to the group silently."
            )
        ]
    errors |= _too_long("reason", reason, MAX_NOTE) | _too_long("evidence", evidence, MAX_NOTE)
    if owner == owner_seen and status == status_seen and not evidence:
        errors.setdefault("status", [_("Change the status or the owner, or add evidence.")])
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if not Step.objects.filter(pk=step.pk, owner=owner_seen, status=status_seen).update(
            owner=owner, status=status
        ):
            raise Conflict
        what = step.what
        step.refresh_from_db(fields=["owner", "status"])
        if owner != owner_seen:
            # The text moves to the scope of its new owner.
            step.what_x, step.what_group = (what, "") if owner == Owner.X else ("", what)
        if evidence:
            step.evidence = "\n\n".join(filter(None, [step.evidence, evidence]))
        step.save(update_fields=["what_x", "what_group", "evidence"])
        change = StepChange.objects.create(
            step=step,
            process=step.process,
            owner_before=owner_seen,
            owner_after=owner,
            status_before=status_seen,
            status_after=status,
            by=actor,
        )
        change.reason = reason
        change.save()
        audit.record(actor, step.process, Kind.CHANGE, step)
        audit.record(actor, step.process, Kind.CREATE, change)
    return step


# Confirmations to X


def _day(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def confirmation_text(meeting: Meeting, language: str) -> tuple[str, str]:
    """Subject and text for X: the date, what was discussed, the steps and the next meeting."""
    process = meeting.process
    terms = terms_of(process)
    later = (
        Meeting.objects.filter(
            process=process, planned_at__gt=meeting.planned_at, outcome="", x_expected=True
        )
        .order_by("planned_at")
        .first()
    )
    with translation.override(language):
        held_on = _day(timezone.localtime(meeting.planned_at).date())
        subject = _("Our meeting on %(date)s: what we agreed") % {"date": held_on}
        lines = [
            _("Hello %(name)s,") % {"name": terms["respondent"]},
            "",
            _("This confirms in writing our meeting on %(date)s.") % {"date": held_on},
            "",
            _("What we discussed:"),
            meeting.minutes or _("(no minutes were written)"),
            "",
        ]
        steps = list(meeting.steps.order_by("due_on", "pk"))
        if steps:
            lines.append(_("The steps we agreed:"))
            for number, step in enumerate(steps, 1):
                who = terms["respondent"] if step.owner == Owner.X else _("the contact group")
                lines.append(
                    _("%(n)s. %(what)s (to be done by %(who)s by %(date)s)")
                    % {"n": number, "what": step.what, "who": who, "date": _day(step.due_on)}
                )
            lines.append("")
        if later is not None:
            when = timezone.localtime(later.planned_at)
            lines.append(
                _("Our next meeting: %(date)s at %(time)s, %(place)s.")
                % {
                    "date": _day(when.date()),
                    "time": formats.time_format(when.time(), "TIME_FORMAT"),
                    "place": later.place or _("place to be agreed"),
                }
            )
        else:
            lines.append(
                _("We propose to meet again around %(date)s.")
                % {"date": _day(suggested_meeting_date(process))}
            )
        lines += ["", _("The contact group")]
    return subject, "\n".join(lines)


def prepare_confirmation(
    actor: User, process: Process | str, meeting_id: int, language: str
) -> Confirmation:
    """A draft from a held meeting, for a member to review; an unsent draft is rebuilt."""
    membership = authorize(actor, "record.write", process)
    meeting = Meeting.objects.filter(process=membership.process, pk=meeting_id).first()
    if meeting is None:
        raise Http404
    if meeting.outcome != Outcome.HELD:
        raise ValidationError(_("A confirmation is written after a meeting that was held."))
    subject, body = confirmation_text(meeting, language)
    with transaction.atomic():
        confirmation, created = Confirmation.objects.select_for_update().get_or_create(
            meeting=meeting, defaults={"process": meeting.process, "prepared_by": actor}
        )
        if confirmation.state in (SendState.SENT, SendState.SENDING):
            raise ValidationError(
                _("This confirmation is being sent or was sent already. Nothing was changed.")
            )
        if created or not confirmation.draft_to_address:
            confirmation.draft_to_address = last_address(meeting.process)
        confirmation.draft_subject, confirmation.draft_body = subject, body
        confirmation.prepared_by = actor
        confirmation.save()
        audit.record(actor, meeting.process, Kind.CREATE if created else Kind.CHANGE, confirmation)
    return confirmation


def last_address(process: Process) -> str:
    """Where the last confirmation to X went, to fill in the next one."""
    last = (
        Confirmation.objects.filter(process=process, state=SendState.SENT)
        .order_by("-sent_at")
        .first()
    )
    return last.to_address if last else ""


def message_digest(message: EmailMessage) -> str:
    """Of the bytes Django's SMTP backend hands to the server (CRLF line ends)."""
    return hashlib.sha256(message.message().as_bytes(linesep="\r\n")).hexdigest()


def send_confirmation(
    actor: User,
    process: Process | str,
    confirmation_id: int,
    *,
    to_address: str,
    subject: str,
    body: str,
) -> Confirmation:
    """Saves what the member reviewed and sends it by email.

    On failure nothing counts as sent: the confirmation is marked failed, with the reason, and
    may be sent again. What was sent, when, to whom, and its hash stay with the meeting.
    """
    membership = authorize(actor, "record.write", process)
    confirmation = Confirmation.objects.filter(
        process=membership.process, pk=confirmation_id
    ).first()
    if confirmation is None:
        raise Http404
    to_address, subject, body = (to_address or "").strip(), (subject or "").strip(), body or ""
    errors: dict[str, list[str]] = {}
    try:
        validate_email(to_address)
    except ValidationError:
        errors["to_address"] = [_("Give an email address, like name@example.org.")]
    if not subject:
        errors["subject"] = [_("Give a subject.")]
    if not body.strip():
        errors["body"] = [_("The text is empty.")]
    if "\n" in subject or "\r" in subject:
        errors["subject"] = [_("Keep the subject on one line.")]
    errors |= _too_long("body", body, MAX_TEXT) | _too_long("subject", subject, MAX_SUMMARY)
    if errors:
        raise ValidationError(errors)
    # One Message-ID per confirmation, the same on every attempt, so a copy that did arrive
    # despite an error is recognisable. Fixed headers, and a final line break (the SMTP client
    # would add one), so the hash is of exactly the bytes the mail server receives.
    message_id = confirmation.message_id or make_msgid(domain="uphold")
    headers = {"Message-ID": message_id, "Date": formatdate(localtime=False)}
    message = EmailMessage(subject, body.rstrip("\n") + "\n", to=[to_address], headers=headers)
    digest = message_digest(message)
    now = timezone.now()
    claimable = Q(state__in=[SendState.DRAFT, SendState.FAILED]) | Q(
        state=SendState.SENDING, sending_since__lt=now - SENDING_STALE
    )
    with transaction.atomic():
        if not Confirmation.objects.filter(claimable, pk=confirmation.pk).update(
            state=SendState.SENDING,
            sending_since=now,
            attempts=F("attempts") + 1,
            message_id=message_id,
        ):
            raise ValidationError(
                _("This confirmation is being sent or was sent already. Nothing was changed.")
            )
        # What the member reviewed stays the group's until the mail server has it.
        confirmation.draft_to_address, confirmation.draft_subject, confirmation.draft_body = (
            to_address,
            subject,
            body,
        )
        confirmation.save(update_fields=["draft_to_address", "draft_subject", "draft_body"])
        audit.record(actor, confirmation.process, Kind.CHANGE, confirmation)
    try:
        with get_connection(fail_silently=False, timeout=30) as connection:
            connection.send_messages([message])
    except Exception as error:  # whatever the failure, the letter stays unsent
        with transaction.atomic():
            Confirmation.objects.filter(pk=confirmation.pk).update(
                state=SendState.FAILED, last_error=type(error).__name__[:200]
            )
            confirmation.refresh_from_db(fields=["state", "last_error", "attempts"])
            audit.record(actor, confirmation.process, Kind.CHANGE, confirmation)
        return confirmation
    with transaction.atomic():
        # Sent: now, and only now, X's copy exists, and the draft is gone.
        confirmation.to_address, confirmation.subject, confirmation.body = to_address, subject, body
        confirmation.draft_to_address = confirmation.draft_subject = confirmation.draft_body = ""
        confirmation.save(
            update_fields=[
                "to_address",
                "subject",
                "body",
                "draft_to_address",
                "draft_subject",
                "draft_body",
            ]
        )
        Confirmation.objects.filter(pk=confirmation.pk).update(
            state=SendState.SENT,
            sent_by=actor,
            sent_at=timezone.now(),
            sha256=digest,
            last_error="",
        )
        confirmation.refresh_from_db(
            fields=["state", "sent_by", "sent_at", "message_id", "sha256", "last_error", "attempts"]
        )
        audit.record(actor, confirmation.process, Kind.SEND, confirmation)
    return confirmation
