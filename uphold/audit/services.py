"""Appending to and verifying the audit chain. Services call `record` inside their transaction."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction

from uphold.crypto import keyring
from uphold.crypto.fields import encrypted_fields
from uphold.crypto.primitives import CryptoError, key_mac
from uphold.processes.models import Process

from .models import AuditEvent, Checkpoint

GENESIS = "0" * 64


def content_digest(obj: models.Model | None) -> str:
    """SHA-256 over the row's ciphertexts exactly as stored; verification needs no key."""
    if obj is None:
        return ""
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


def record(actor, process: Process, kind: str, obj: models.Model | None = None) -> AuditEvent:
    with transaction.atomic():
        # Locking the process row serialises appends to its chain (SQLite serialises anyway).
        Process.objects.select_for_update(no_key=True).filter(pk=process.pk).first()
        last = AuditEvent.objects.filter(process=process).order_by("-seq").first()
        event = AuditEvent(
            process=process,
            seq=(last.seq + 1) if last else 1,
            actor_id_at_the_time=getattr(actor, "pk", None),
            kind=kind,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            content_digest=content_digest(obj),
            prev_digest=last.digest if last else GENESIS,
        )
        event.digest = event_digest(event)
        event.save()
        _checkpoint(process, event)
    return event


def _head_mac(key: bytes, process_id: int, seq: int, digest: str) -> str:
    return key_mac(key, b"uphold-audit", f"{process_id}|{seq}|{digest}".encode())


def _checkpoint(process: Process, event: AuditEvent) -> None:
    """Seals the new head if the acting keyring holds a `record` key (the newest it trusts)."""
    try:
        active, key = keyring.current().scope_key(process.pk, "record")
    except (keyring.NoKey, CryptoError):
        return
    Checkpoint.objects.update_or_create(
        process=process,
        defaults={
            "seq": event.seq,
            "digest": event.digest,
            "key_generation": active,
            "mac": _head_mac(key, process.pk, event.seq, event.digest),
        },
    )


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


def latest_events(process: Process) -> dict[tuple[str, str], AuditEvent]:
    """The last event about each row the chain names."""
    latest: dict[tuple[str, str], AuditEvent] = {}
    for event in AuditEvent.objects.filter(process=process).exclude(object_type="").order_by("seq"):
        latest[(event.object_type, event.object_id)] = event
    return latest


def _live(object_type: str, object_id: str):
    model = apps.get_model(object_type)
    return model.objects.filter(pk=model._meta.pk.to_python(object_id)).first()


def rebaseline(actor, process: Process, kind: str) -> None:
    """After re-sealing rows (key rotation) their ciphertexts changed: one event each, so the
    chain again names exactly what is stored."""
    for (object_type, object_id), event in latest_events(process).items():
        if event.kind == "delete":
            continue
        obj = _live(object_type, object_id)
        if obj is not None and content_digest(obj) != event.content_digest:
            record(actor, process, kind, obj)


def verify_rows(process: Process) -> Break | None:
    """Each row the chain names still exists, holds what was last recorded, or is gone if the
    chain says it was deleted: a row deleted or rolled back behind Uphold's back shows here."""
    for (object_type, object_id), event in latest_events(process).items():
        obj = _live(object_type, object_id)
        if event.kind == "delete":
            reason = "names a deleted row that is back" if obj is not None else None
        elif obj is None:
            reason = f"names {object_type} {object_id}, which is gone"
        elif content_digest(obj) != event.content_digest:
            reason = f"does not match what {object_type} {object_id} now holds"
        else:
            reason = None
        if reason:
            return Break(process.code, event.seq, event.pk, reason)
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
