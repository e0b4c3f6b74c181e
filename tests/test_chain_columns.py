"""Every column of the record is under the audit chain: a date, a status, an owner or a link
changed in the database outside Uphold is found by `uphold verify`, which names the row and the
column. This is what makes the figures (contact health, later `uphold stats`) trustworthy."""

import datetime
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, models, transaction

from uphold.audit.services import chained_columns, chained_models, verify
from uphold.crypto.fields import EncryptedTextField, Sealed
from uphold.processes.models import Process

pytestmark = pytest.mark.tampers


def _candidates(field: models.Field, current, row: models.Model):
    """Other values the column could hold, each one a database writer could set."""
    if isinstance(field, EncryptedTextField):
        if current is None:
            yield Sealed(b"U1\x00\x00\x00\x01" + bytes(40))
        else:
            raw = bytearray(current)
            raw[-1] ^= 1
            yield Sealed(bytes(raw))
        return
    if field.is_relation:
        related = field.related_model._default_manager.exclude(pk=current)
        yield from related.values_list("pk", flat=True)[:20]
        if field.null and current is not None:
            yield None
        if isinstance(field.target_field, models.AutoField | models.BigAutoField):
            yield 10**9  # no such row: foreign keys are checked only at commit
        return
    if field.choices:
        for value, _label in field.flatchoices:
            if value != current:
                yield value
        return
    if isinstance(field, models.BooleanField):
        yield not current
    elif isinstance(field, models.DateTimeField):
        yield (current or datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)) + datetime.timedelta(
            hours=25
        )
    elif isinstance(field, models.DateField):
        yield (current or datetime.date(2020, 1, 1)) + datetime.timedelta(days=37)
    elif isinstance(field, models.IntegerField):
        yield (current or 0) + 1000
        yield (current or 0) + 1
    elif isinstance(field, models.JSONField):
        yield [*current, "no_reply"] if isinstance(current, list) else {"x": 1}
    elif isinstance(field, models.BinaryField):
        yield bytes(current or b"")[:-1] + b"!"
    elif isinstance(field, models.UUIDField):
        yield uuid.uuid4()
    elif isinstance(field, models.CharField):
        text = current or ""
        yield (text[: field.max_length - 1] + "Z") if text.endswith("y") else text[:-1] + "y"
        yield "z"
    else:
        raise AssertionError(f"no other value known for {field!r}")


def _change(model, rows, field) -> tuple[models.Model, object]:
    """Sets the column of one of the rows to another value, as a database writer would (a
    row whose constraints allow it); returns the row and its old value."""
    manager = model._default_manager
    for row in rows:
        current = manager.filter(pk=row.pk).values_list(field.attname, flat=True).get()
        for value in _candidates(field, current, row):
            try:
                with transaction.atomic():
                    if manager.filter(pk=row.pk).update(**{field.attname: value}):
                        return row, current
            except IntegrityError:
                continue
    raise AssertionError(f"could not change {model._meta.label_lower}.{field.attname}")


def _rows_of(process: Process) -> dict[type, list[models.Model]]:
    rows = {}
    for model in chained_models():
        found = list(model.chained_rows(process.pk).order_by("pk"))
        if found:
            rows[model] = found
    return rows


@pytest.fixture
def kestrel(people, as_member):
    """The test process with one of everything, a calendar link with places too."""
    from uphold.record import calendar

    with as_member("contact") as contact:
        calendar.create_feed(contact, "kestrel", with_place=True)
    return Process.objects.get(code="kestrel")


def test_every_chained_table_has_a_row_in_the_test_process(kestrel):
    """So the test below reaches every table; a new chained table must get a row here."""
    missing = [m._meta.label_lower for m in chained_models() if m not in _rows_of(kestrel)]
    assert missing == []


def test_every_column_changed_outside_uphold_is_named_by_verify(kestrel):
    assert verify(kestrel) is None
    checked = 0
    for model, rows in _rows_of(kestrel).items():
        fields = {f.attname: f for f in model._meta.concrete_fields}
        for column in chained_columns(model):
            field = fields[column]
            row, old = _change(model, rows, field)
            problem = verify(kestrel)
            model._default_manager.filter(pk=row.pk).update(**{column: old})
            where = f"{model._meta.label_lower}.{column}"
            assert problem is not None, f"{where} changed and verify did not see it"
            assert (problem.object_type, problem.object_id) == (
                model._meta.label_lower,
                str(row.pk),
            ), where
            assert problem.column == column, (where, problem)
            assert column in problem.reason
            checked += 1
        assert verify(kestrel) is None, f"{model._meta.label_lower} restored"
    assert checked > 100


def test_links_between_rows_are_under_the_chain(people):
    from uphold.demands.models import Demand
    from uphold.record.models import Entry

    kestrel = Process.objects.get(code="kestrel")
    entry = Entry.objects.filter(process=kestrel).order_by("pk").first()
    demand = Demand.objects.filter(process=kestrel).exclude(entries=entry).first()
    entry.demands.add(demand)  # as a database writer: no event
    problem = verify(kestrel)
    assert problem and problem.column == "demands" and problem.object_id == str(entry.pk)


def test_a_row_added_outside_uphold_is_found(people):
    from uphold.record.models import Entry

    kestrel = Process.objects.get(code="kestrel")
    entry = Entry.objects.filter(process=kestrel).first()
    Entry.objects.filter(pk=entry.pk).values()  # the stored row, copied whole
    forged = Entry.objects.get(pk=entry.pk)
    forged.pk = None
    forged.save()  # ciphertexts copied as they are: a second "reply from X" on another day
    problem = verify(kestrel)
    assert problem and problem.object_id == str(forged.pk)
    assert "not in the chain" in problem.reason


def test_verify_names_the_row_and_column_on_the_command_line(people):
    from uphold.record.models import Step

    step = Step.objects.filter(process__code="kestrel").first()
    Step.objects.filter(pk=step.pk).update(status="done" if step.status != "done" else "missed")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify", stdout=StringIO(), stderr=err)
    assert f"record.step {step.pk} now holds in column status" in err.getvalue()


def test_an_untouched_database_passes(people):
    out = StringIO()
    call_command("verify", stdout=out)
    assert "kestrel:" in out.getvalue() and "every column intact" in out.getvalue()
