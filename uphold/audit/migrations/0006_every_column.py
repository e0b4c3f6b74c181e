"""Every column of a chained row goes under the audit chain, not only its ciphertexts.

Each row the chain names gets one more event holding a digest of each of its columns as they
are now, so from here on a clear column (a date, a status, an owner) changed outside Uphold is
found and named by `uphold verify`. The algorithm is copied here, frozen, from
`uphold.audit.services` as it was when this migration was written.
"""

import datetime
import hashlib
import json
import uuid
from decimal import Decimal

from django.db import migrations, models
from django.utils import timezone

GENESIS = "0" * 64
SKIP = {"record.calendarfeed": {"attestation", "attested_generation"}}


def _value_bytes(value) -> bytes:
    if isinstance(value, bytes | memoryview):
        return b"b" + bytes(value)
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC) if value.tzinfo else value
        return b"t" + value.isoformat().encode()
    if isinstance(value, datetime.date | uuid.UUID | Decimal):
        return b"s" + str(value).encode()
    return b"j" + json.dumps(value, sort_keys=True).encode()


def _column_digest(name: str, value) -> str:
    return hashlib.sha256(name.encode() + b"\x00" + _value_bytes(value)).hexdigest()[:32]


def _row_columns(model, obj) -> dict:
    skip = SKIP.get(model._meta.label_lower, set())
    names = [
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key and f.attname not in skip and f.name not in skip
    ]
    stored = model._default_manager.filter(pk=obj.pk).order_by("pk").values(*names).first() or {}
    columns = {name: _column_digest(name, stored.get(name)) for name in names}
    for field in model._meta.many_to_many:
        if field.name in skip:
            continue
        linked = sorted(str(pk) for pk in getattr(obj, field.name).values_list("pk", flat=True))
        columns[field.name] = _column_digest(field.name, linked)
    return columns


def _event_digest(event) -> str:
    """As uphold.audit.services.event_digest computes it."""
    fields = [
        event.prev_digest,
        event.process_id,
        event.seq,
        event.at.isoformat(),
        event.actor_id_at_the_time,
        event.kind,
        event.object_type,
        event.object_id,
        event.content_digest,
    ]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def every_column(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    Process = apps.get_model("processes", "Process")
    for process_id in Process.objects.values_list("pk", flat=True):
        latest = {}
        for event in (
            AuditEvent.objects.filter(process_id=process_id).exclude(object_type="").order_by("seq")
        ):
            latest[(event.object_type, event.object_id)] = event
        last = AuditEvent.objects.filter(process_id=process_id).order_by("-seq").first()
        for (object_type, object_id), named in latest.items():
            if named.kind == "delete":
                continue
            try:
                model = apps.get_model(object_type)
            except LookupError:
                continue
            obj = (
                model._default_manager.filter(pk=model._meta.pk.to_python(object_id))
                .order_by("pk")
                .first()
            )
            if obj is None:
                continue  # `uphold verify` reports it, as before
            columns = _row_columns(model, obj)
            event = AuditEvent(
                process_id=process_id,
                seq=(last.seq + 1) if last else 1,
                at=timezone.now(),
                actor_id_at_the_time=None,
                kind="change",
                object_type=object_type,
                object_id=object_id,
                columns=columns,
                content_digest=hashlib.sha256(
                    json.dumps(sorted(columns.items())).encode()
                ).hexdigest(),
                prev_digest=last.digest if last else GENESIS,
            )
            event.digest = _event_digest(event)
            event.save()
            last = event


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_alter_auditevent_kind"),
        ("accounts", "0005_invitation_withdrawn_at"),
        ("attachments", "0002_remove_attachment_content_type"),
        ("crypto", "0003_keys_follow_roles"),
        ("demands", "0002_answer_entry"),
        ("processes", "0002_process_meeting_every_months_and_more"),
        ("record", "0005_step_agreed_on"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="columns",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(every_column, migrations.RunPython.noop),
    ]
