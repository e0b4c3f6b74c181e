"""Writing the people and circles around X, their informings and their stances.

Every write checks the member's right, all its input at once (every problem, by field), and
changes the rows and their audit events in one transaction. The web and any importer share
these rules.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind as Event
from uphold.crypto.fields import checking_keys_once
from uphold.demands.models import Demand
from uphold.processes.models import EARLIEST, Membership, Process
from uphold.processes.permissions import authorize
from uphold.record.models import Entry

from .models import (
    CIRCLE_RELATIONS,
    PERSON_RELATIONS,
    InformedBy,
    Informing,
    InformingDemand,
    Kind,
    Person,
    Reach,
    Stance,
    StanceChange,
)

MAX_NAME = 200
MAX_NOTE = 20_000


class Conflict(Exception):
    """The person was changed since the form was opened."""


@dataclass
class PersonData:
    kind: str
    relation: str
    name: str
    notes: str = ""
    joined_on: date | None = None
    left_on: date | None = None
    asked_on: date | None = None
    answer: str = ""


@dataclass
class InformingData:
    on: date
    by: str
    reach: str = ""
    entry_id: int | None = None
    note: str = ""


@dataclass
class StanceData:
    on: date
    stance: str
    entry_id: int | None = None
    note: str = ""


def _too_long(errors: dict, name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors.setdefault(name, []).append(
            _("This is %(count)s characters; keep it under %(n)s.")
            % {"count": f"{len(value):,}", "n": f"{limit:,}"}
        )


def _day(errors: dict, name: str, value: date | None, required: bool = False) -> None:
    if value is None:
        if required:
            errors.setdefault(name, []).append(_("Enter a date, such as 2016-01-15."))
        return
    if value > timezone.localdate():
        errors.setdefault(name, []).append(
            _("That day has not come yet: record what has happened.")
        )
    elif value < EARLIEST:
        errors.setdefault(name, []).append(_("That is before 2000. Check the year."))


def _entry_of(errors: dict, process: Process, entry_id: int | None) -> Entry | None:
    if entry_id is None:
        return None
    entry = Entry.objects.filter(process=process, pk=entry_id).first()
    if entry is None:
        errors.setdefault("entry", []).append(_("Choose an entry of this process's log."))
    return entry


def clean_person(data: PersonData) -> PersonData:
    data.name, data.notes, data.answer = (
        (data.name or "").strip(),
        (data.notes or "").strip(),
        (data.answer or "").strip(),
    )
    errors: dict[str, list[str]] = {}
    if data.kind not in Kind.values:
        errors["kind"] = [_("Choose a person or a circle.")]
    relations = CIRCLE_RELATIONS if data.kind == Kind.CIRCLE else PERSON_RELATIONS
    if data.relation not in relations:
        errors["relation"] = [
            _("Choose what kind of circle it is.")
            if data.kind == Kind.CIRCLE
            else _("Choose who they are to him.")
        ]
    if not data.name:
        errors["name"] = [_("Give a name or an alias the group will recognise.")]
    _too_long(errors, "name", data.name, MAX_NAME)
    _too_long(errors, "notes", data.notes, MAX_NOTE)
    _too_long(errors, "answer", data.answer, MAX_NOTE)
    for name in ("joined_on", "left_on", "asked_on"):
        _day(errors, name, getattr(data, name))
    if data.joined_on and data.left_on and data.left_on < data.joined_on:
        errors.setdefault("left_on", []).append(_("This is before the day it began."))
    if data.answer and not data.asked_on:
        errors.setdefault("asked_on", []).append(
            _("Say when they were asked, since their answer is noted.")
        )
    if errors:
        raise ValidationError(errors)
    return data


def _write(person: Person, data: PersonData) -> None:
    person.relation, person.joined_on, person.left_on = data.relation, data.joined_on, data.left_on
    person.asked_on = data.asked_on
    if person.pk is None:
        person.save()  # sealed fields are bound to the row, so it needs its id first
    person.name, person.notes, person.answer = data.name, data.notes, data.answer
    person.save()


def add_person(actor: User, process: Process | str, data: PersonData) -> Person:
    return add_people(actor, process, [data])[0]


def add_people(actor: User, process: Process | str, people: list[PersonData]) -> list[Person]:
    """Adds them all or none, each checked before any is written (a list brought in at once)."""
    membership = authorize(actor, "record.write", process)
    cleaned = [clean_person(data) for data in people]
    written = []
    with transaction.atomic(), checking_keys_once():
        for data in cleaned:
            person = Person(process=membership.process, kind=data.kind, created_by=actor)
            _write(person, data)
            written.append(person)
        audit.record_many(actor, membership.process, Event.CREATE, written)
    return written


def _person(membership: Membership, person_id: int) -> Person:
    person = Person.objects.filter(process=membership.process, pk=person_id).first()
    if person is None:
        raise Http404
    return person


def edit_person(
    actor: User, process: Process | str, person_id: int, data: PersonData, *, base_revision: int
) -> Person:
    """Changes what is known of a person or circle (its kind stays what it was)."""
    membership = authorize(actor, "record.write", process)
    person = _person(membership, person_id)
    data.kind = person.kind
    data = clean_person(data)
    with transaction.atomic():
        if not Person.objects.filter(pk=person.pk, revision=base_revision).update(
            revision=base_revision + 1
        ):
            raise Conflict
        person.revision = base_revision + 1
        _write(person, data)
        audit.record(actor, membership.process, Event.CHANGE, person)
    return person


def add_informing(
    actor: User, process: Process | str, person_id: int, data: InformingData
) -> Informing:
    """Records that someone informed a person or circle. For a circle, how far it reached."""
    membership = authorize(actor, "record.write", process)
    person = _person(membership, person_id)
    data.note = (data.note or "").strip()
    errors: dict[str, list[str]] = {}
    _day(errors, "on", data.on, required=True)
    if data.by not in InformedBy.values:
        errors["by"] = [_("Choose who informed them.")]
    if person.is_circle and data.reach not in Reach.values:
        errors["reach"] = [_("Choose how far down the circle it reached.")]
    if not person.is_circle:
        data.reach = ""
    _too_long(errors, "note", data.note, MAX_NOTE)
    entry = _entry_of(errors, membership.process, data.entry_id)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        informing = Informing.objects.create(
            person=person,
            process=membership.process,
            on=data.on,
            by=data.by,
            reach=data.reach,
            entry=entry,
            created_by=actor,
        )
        informing.note = data.note
        informing.save()
        audit.record(actor, membership.process, Event.CREATE, informing)
    return informing


def change_stance(
    actor: User, process: Process | str, person_id: int, data: StanceData
) -> StanceChange:
    """Records where a person or circle stands from a day on. The person's stance is the one of
    its latest change by date (a change entered late, dated earlier, is history only)."""
    membership = authorize(actor, "record.write", process)
    person = _person(membership, person_id)
    data.note = (data.note or "").strip()
    errors: dict[str, list[str]] = {}
    _day(errors, "on", data.on, required=True)
    if data.stance not in Stance.values:
        errors["stance"] = [_("Choose a stance from the list.")]
    _too_long(errors, "note", data.note, MAX_NOTE)
    entry = _entry_of(errors, membership.process, data.entry_id)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        change = StanceChange.objects.create(
            person=person,
            process=membership.process,
            on=data.on,
            stance=data.stance,
            entry=entry,
            created_by=actor,
        )
        change.note = data.note
        change.save()
        audit.record(actor, membership.process, Event.CREATE, change)
        latest = person.stances.order_by("-on", "-pk").values_list("stance", flat=True).first()
        if latest != person.stance:
            Person.objects.filter(pk=person.pk).update(stance=latest)
            person.stance = latest
            audit.record(actor, membership.process, Event.CHANGE, person)
    return change


def set_informing_demand(actor: User, process: Process | str, number: int | None) -> None:
    """Which demand asks X to inform the people around him (none: not said yet)."""
    membership = authorize(actor, "record.write", process)
    demand = None
    if number is not None:
        demand = Demand.objects.filter(process=membership.process, number=number).first()
        if demand is None:
            raise ValidationError({"demand": [_("Choose demands of this process.")]})
    with transaction.atomic():
        row, made = InformingDemand.objects.get_or_create(process=membership.process)
        row.demand = demand
        row.save()
        audit.record(actor, membership.process, Event.CREATE if made else Event.CHANGE, row)
