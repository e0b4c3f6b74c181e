"""Appending to and verifying the audit chain. Services call `record` inside their transaction."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction

from uphold.crypto import keyring
from uphold.crypto.fields import encrypted_fields
from uphold.crypto.primitives import CryptoError, key_mac
from uphold.processes.models import Process

from .models import AuditEvent, Chained, Checkpoint, Kind

GENESIS = "0" * 64


def _value_bytes(value) -> bytes:
    """One stored value as bytes, the same on SQLite and PostgreSQL."""
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


def column_digest(name: str, value) -> str:
    """What an event records of a column that holds `value`."""
    return _column_digest(name, value)


def chained_columns(model: type[models.Model]) -> list[str]:
    """The columns of a chained row, by their stored name: every one but the id and the skipped."""
    skip = getattr(model, "audit_skip", frozenset())
    return [
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key and f.attname not in skip and f.name not in skip
    ]


def row_columns(obj: models.Model) -> dict[str, str]:
    """A digest of each column of the row exactly as stored, and of each of its links to other
    rows (the ids, sorted): what an event vouches for. Needs no key."""
    return rows_columns(type(obj), [obj.pk])[obj.pk]


def rows_columns(model: type[models.Model], pks: list) -> dict[object, dict[str, str]]:
    """`row_columns` of many rows of one model, in one query per table however many rows."""
    names = chained_columns(model)
    stored = {
        row.pop("pk"): row
        for row in model._default_manager.filter(pk__in=pks).order_by().values("pk", *names)
    }
    found = {pk: {name: _column_digest(name, stored.get(pk, {}).get(name)) for name in names}
             for pk in pks}  # fmt: skip
    skip = getattr(model, "audit_skip", frozenset())
    for field in model._meta.many_to_many:
        if field.name in skip:
            continue
        through = field.remote_field.through
        source, target = field.m2m_field_name() + "_id", field.m2m_reverse_field_name() + "_id"
        linked: dict[object, list[str]] = {pk: [] for pk in pks}
        for pk, other in through.objects.filter(**{f"{source}__in": pks}).values_list(
            source, target
        ):
            linked[pk].append(str(other))
        for pk in pks:
            found[pk][field.name] = _column_digest(field.name, sorted(linked[pk]))
    return found


def digest_of_columns(columns: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(columns.items())).encode()).hexdigest()


def legacy_content_digest(obj: models.Model) -> str:
    """How events written before every column was covered hashed a row: its ciphertexts only."""
    columns = [f.attname for f in encrypted_fields(type(obj))]
    if not columns:
        return ""
    stored = type(obj).objects.filter(pk=obj.pk).values_list(*columns).first() or ()
    digest = hashlib.sha256()
    for value in stored:
        digest.update(b"\x00" if value is None else bytes(value))
    return digest.hexdigest()


def event_digest(event: AuditEvent) -> str:
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


def record(
    actor,
    process: Process,
    kind: str,
    obj: models.Model | None = None,
    *,
    columns: dict[str, str] | None = None,
) -> AuditEvent:
    """Appends one event about `obj` (its columns as stored now, or `columns` as given)."""
    with transaction.atomic(savepoint=False):
        event = _next_event(actor, _locked_head(process), kind, obj)
        if obj is not None and kind != Kind.DELETE:
            event.columns = row_columns(obj) if columns is None else columns
            event.content_digest = digest_of_columns(event.columns)
        return _append(process, [event])[0]


def record_many(actor, process: Process, kind: str, objs: list[models.Model]) -> list[AuditEvent]:
    """One event of `kind` for each of `objs` (rows of one model), in their order: for a
    service writing many rows at once, the chain's head is read and sealed once, and the
    rows' columns are read in one query, not one each."""
    if not objs:
        return []
    with transaction.atomic(savepoint=False):
        previous = _locked_head(process)
        found = rows_columns(type(objs[0]), [obj.pk for obj in objs])
        events = []
        for obj in objs:
            event = _next_event(actor, previous, kind, obj)
            if kind != Kind.DELETE:
                event.columns = found[obj.pk]
                event.content_digest = digest_of_columns(event.columns)
            event.digest = event_digest(event)
            events.append(event)
            previous = (process, event.seq, event.digest)
        return _append(process, events)


def _locked_head(process: Process) -> tuple[Process, int, str]:
    """The chain's last seq and digest, with the process row locked: that serialises appends
    to its chain (SQLite serialises anyway)."""
    Process.objects.select_for_update(no_key=True).filter(pk=process.pk).first()
    last = (
        AuditEvent.objects.filter(process=process)
        .order_by("-seq")
        .values_list("seq", "digest")
        .first()
    )
    return (process, *last) if last else (process, 0, GENESIS)


def _next_event(actor, head: tuple[Process, int, str], kind: str, obj) -> AuditEvent:
    process, seq, digest = head
    return AuditEvent(
        process=process,
        seq=seq + 1,
        actor_id_at_the_time=getattr(actor, "pk", None),
        kind=kind,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        prev_digest=digest,
    )


def _append(process: Process, events: list[AuditEvent]) -> list[AuditEvent]:
    for event in events:
        event.digest = event.digest or event_digest(event)
    AuditEvent.objects.bulk_create(events)
    _checkpoint(process, events[-1])
    return events


def _head_mac(key: bytes, process_id: int, seq: int, digest: str) -> str:
    return key_mac(key, b"uphold-audit", f"{process_id}|{seq}|{digest}".encode())


def _checkpoint(process: Process, event: AuditEvent) -> None:
    """Seals the new head if the acting keyring holds a `record` key (the newest it trusts)."""
    try:
        active, key = keyring.current().scope_key(process.pk, "record")
    except (keyring.NoKey, CryptoError):
        return
    head = {
        "seq": event.seq,
        "digest": event.digest,
        "key_generation": active,
        "mac": _head_mac(key, process.pk, event.seq, event.digest),
    }
    # The process row is locked (`_locked_head`), so no other writer makes it meanwhile.
    if not Checkpoint.objects.filter(process=process).update(**head):
        Checkpoint.objects.create(process=process, **head)


def verify_with_key(ring: keyring.Keyring, process: Process) -> Break | None:
    """With a `record` key: the sealed head must be genuine and still be in the chain.

    This catches what the keyless check cannot: a chain rewritten from some event on, with
    every later digest recomputed by someone holding no member's key.
    """
    point = Checkpoint.objects.filter(process=process).first()
    if point is None:
        return None
    if point.key_generation not in ring.live_generations(process.pk, "record"):
        return Break(process.code, point.seq, 0, "the sealed chain head is not under a live key")
    try:
        _g, key = ring.scope_key(process.pk, "record", point.key_generation)
    except (keyring.NoKey, CryptoError):
        return Break(process.code, point.seq, 0, "the sealed chain head cannot be opened")
    if not hmac.compare_digest(point.mac, _head_mac(key, process.pk, point.seq, point.digest)):
        return Break(process.code, point.seq, 0, "the sealed chain head was forged")
    event = AuditEvent.objects.filter(process=process, seq=point.seq).first()
    if event is None or event.digest != point.digest:
        return Break(
            process.code, point.seq, event.pk if event else 0, "was rewritten after it was sealed"
        )
    return None


@dataclass
class Break:
    process_code: str
    seq: int
    event_id: int
    reason: str
    object_type: str = ""
    object_id: str = ""
    column: str = ""


def latest_events(process: Process) -> dict[tuple[str, str], AuditEvent]:
    """The last event about each row the chain names."""
    return _first_and_latest(process)[1]


def _first_and_latest(
    process: Process, object_type: str | None = None
) -> tuple[dict[tuple[str, str], AuditEvent], dict[tuple[str, str], AuditEvent]]:
    """The first event that recorded each row's columns, and the last event about it."""
    first: dict[tuple[str, str], AuditEvent] = {}
    latest: dict[tuple[str, str], AuditEvent] = {}
    events = AuditEvent.objects.filter(process=process).exclude(object_type="")
    if object_type is not None:
        events = events.filter(object_type=object_type)
    for event in events.order_by("seq").iterator():
        key = (event.object_type, event.object_id)
        latest[key] = event
        if event.columns and key not in first:
            first[key] = event
    return first, latest


def fixed_columns_moved(obj: models.Model, first: AuditEvent, latest: AuditEvent) -> list[str]:
    """The columns the model holds fixed (Chained.audit_fixed) that a later event records with
    another value than the first."""
    fixed = getattr(type(obj), "audit_fixed", frozenset())
    return sorted(
        name
        for name in fixed
        if name in first.columns
        and name in latest.columns
        and first.columns[name] != latest.columns[name]
    )


def _live(object_type: str, object_id: str):
    try:
        model = apps.get_model(object_type)
        pk = model._meta.pk.to_python(object_id)
    except (LookupError, ValueError, ValidationError):
        return None
    return model._default_manager.filter(pk=pk).order_by("pk").first()


def chained_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, Chained)]


def rebaseline(actor, process: Process, kind: str) -> None:
    """After re-sealing rows (key rotation) their ciphertexts changed: one event each, so the
    chain again names exactly what is stored. Only the ciphertexts are taken as they are now:
    every other column keeps what the chain said before, so a clear column changed outside
    Uphold meanwhile is still named by `uphold verify`, and putting it back mends it."""
    for (object_type, object_id), event in latest_events(process).items():
        if event.kind == Kind.DELETE:
            continue
        obj = _live(object_type, object_id)
        if obj is None:
            continue
        sealed = {f.attname for f in encrypted_fields(type(obj))}
        if not sealed & set(changed_columns(obj, event)):
            continue
        now = row_columns(obj)
        kept = {
            name: digest if name in sealed else event.columns.get(name, digest)
            for name, digest in now.items()
        }
        record(actor, process, kind, obj, columns=kept)


def changed_columns(obj: models.Model, event: AuditEvent) -> list[str]:
    """The columns of `obj` that no longer hold what `event` recorded ("*" if the event's own
    digest of them does not hold)."""
    if not event.columns:
        # Written before every column was covered: only the ciphertexts can be compared.
        if event.content_digest and legacy_content_digest(obj) != event.content_digest:
            return [f.attname for f in encrypted_fields(type(obj))]
        return []
    if digest_of_columns(event.columns) != event.content_digest:
        return ["*"]
    now = row_columns(obj)
    changed = [name for name, digest in now.items() if event.columns.get(name, digest) != digest]
    # A column added to the table after the event: it must still hold its default.
    for name in now.keys() - event.columns.keys():
        field = _field(type(obj), name)
        if field is not None and now[name] != _column_digest(name, _default_of(field)):
            changed.append(name)
    return changed


def _field(model: type[models.Model], name: str):
    for field in [*model._meta.concrete_fields, *model._meta.many_to_many]:
        if name in (field.attname, field.name):
            return field
    return None


def _default_of(field) -> object:
    if field.many_to_many:
        return []
    return field.get_default()


def verify_rows(process: Process) -> Break | None:
    """Each row the chain names holds, column by column, what was last recorded, or is gone if
    the chain says it was deleted; and every row of the record is named by the chain. A row
    changed, deleted, rolled back or added behind Uphold's back shows here, with its column."""
    first, latest = _first_and_latest(process)
    for (object_type, object_id), event in latest.items():
        obj = _live(object_type, object_id)
        where = {"object_type": object_type, "object_id": object_id}
        if event.kind == Kind.DELETE:
            if obj is not None:
                return Break(
                    process.code, event.seq, event.pk, "names a deleted row that is back", **where
                )
            continue
        if obj is None:
            return Break(
                process.code,
                event.seq,
                event.pk,
                f"names {object_type} {object_id}, which is gone",
                **where,
            )
        changed = changed_columns(obj, event)
        if changed == ["*"]:
            return Break(
                process.code, event.seq, event.pk, "was altered after it was written", **where
            )
        if changed:
            column = changed[0]
            return Break(
                process.code,
                event.seq,
                event.pk,
                f"does not match what {object_type} {object_id} now holds in column {column}",
                column=column,
                **where,
            )
        start = first.get((object_type, object_id))
        moved = fixed_columns_moved(obj, start, event) if start else []
        if moved:
            return Break(
                process.code,
                event.seq,
                event.pk,
                f"records another {moved[0]} for {object_type} {object_id} than it was written "
                "with, which nothing in Uphold changes",
                column=moved[0],
                **where,
            )
    for model in chained_models():
        label = model._meta.label_lower
        named = {object_id for (object_type, object_id) in latest if object_type == label}
        for pk in model.chained_rows(process.pk).values_list("pk", flat=True).iterator():
            if str(pk) not in named:
                return Break(
                    process.code,
                    0,
                    0,
                    f"{label} {pk} is not in the chain: it was added outside Uphold",
                    object_type=label,
                    object_id=str(pk),
                )
    return None


def verify(process: Process) -> Break | None:
    """The first broken link of the process's chain, or None if it is whole."""
    return verify_links(process) or verify_rows(process)


def verify_links(process: Process) -> Break | None:
    prev, expected_seq = GENESIS, 1
    for event in AuditEvent.objects.filter(process=process).order_by("seq").iterator():
        reason = None
        if event.seq != expected_seq:
            reason = f"event {expected_seq} is missing"
        elif event.prev_digest != prev:
            reason = "does not follow the event before it"
        elif event_digest(event) != event.digest:
            reason = "was altered after it was written"
        if reason:
            return Break(process.code, event.seq, event.pk, reason)
        prev, expected_seq = event.digest, expected_seq + 1
    return None


def verify_recent(ring: keyring.Keyring, process: Process) -> Break | None:
    """What a page can check in a bounded time: the sealed head (with the member's `record`
    key, if they hold it) and every event written since it, each following the one before.
    The walk of the events before the head, and every row's columns, are for `uphold verify`,
    whose cost grows with the record."""
    point = Checkpoint.objects.filter(process=process).first()
    if point is not None and ring.holds(process.pk, "record"):
        broken = verify_with_key(ring, process)
        if broken is not None:
            return broken
    # From the sealed head on (its digest as sealed), or from the start of the chain.
    start, prev = (point.seq, None) if point is not None else (1, GENESIS)
    expected_seq = start
    for event in (
        AuditEvent.objects.filter(process=process, seq__gte=start).order_by("seq").iterator()
    ):
        reason = None
        if event.seq != expected_seq:
            reason = f"event {expected_seq} is missing"
        elif prev is None and event.digest != point.digest:
            reason = "was rewritten after it was sealed"
        elif prev is not None and event.prev_digest != prev:
            reason = "does not follow the event before it"
        elif event_digest(event) != event.digest:
            reason = "was altered after it was written"
        if reason:
            return Break(process.code, event.seq, event.pk, reason)
        prev, expected_seq = event.digest, expected_seq + 1
    if point is not None and expected_seq == start:
        return Break(process.code, point.seq, 0, "was rewritten after it was sealed")
    return None


@dataclass
class Opened:
    """What a member's keys checked of the sealed values: each must open under its own row."""

    opened: int = 0
    without_key: int = 0
    damaged: Break | None = None


def verify_opens(ring: keyring.Keyring, process: Process, scopes: set[str]) -> Opened:
    """Opens every sealed value of `scopes` in the process's chained rows with `ring`.

    A value that does not open was altered, moved from another row or column, or sealed by
    someone without the key; a value under a key generation the member no longer holds is
    counted, not judged.
    """
    result = Opened()
    for model in chained_models():
        fields = encrypted_fields(model)
        if not fields:
            continue
        for obj in model.chained_rows(process.pk).iterator(chunk_size=500):
            for field in fields:
                raw = obj.__dict__.get(field.attname)
                if raw is None or field.scope_for(obj) not in scopes:
                    continue
                try:
                    field.open(obj, raw, ring)
                except keyring.NoKey:
                    result.without_key += 1
                except CryptoError:
                    label = model._meta.label_lower
                    result.damaged = Break(
                        process.code,
                        0,
                        0,
                        f"{label} {obj.pk}, column {field.column}: the sealed value does not "
                        "open; it was altered or moved",
                        object_type=label,
                        object_id=str(obj.pk),
                        column=field.column,
                    )
                    return result
                else:
                    result.opened += 1
    return result


def object_names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """(object type, id) -> what the audit page calls the row: one query per kind of row on
    the page, so the cost is bounded by the page, not by the record."""
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.object_type:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
    names: dict[tuple[str, str], str] = {}
    for label, ids in wanted.items():
        try:
            model = apps.get_model(label)
            pks = [model._meta.pk.to_python(i) for i in ids]
        except (LookupError, ValueError, ValidationError):
            continue
        rows = model._default_manager.filter(pk__in=pks).order_by()
        related = getattr(model, "audit_related", ())
        if related:
            rows = rows.select_related(*related)
        for row in rows:
            try:
                name = row.audit_name()
            except (keyring.NoKey, CryptoError):
                name = row.audit_name_locked()
            names[(label, str(row.pk))] = name
    return names
