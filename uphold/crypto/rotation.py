"""Replacing a process's scope keys after a member leaves, so what they kept opens nothing new.

1. start: a new generation of each scope key, sealed to every remaining member who holds the
   old one, in one transaction. From then on both generations open for those members. "Holds"
   means: their role reads the scope (processes.scopes.may_hold; the rotation starts only while
   the audit chain vouches for every row, roles included) and their copy of the old key
   carries an attestation that only a holder of the key could make for their public key; a
   row or a public key written into the database by anyone else receives nothing.
2. move: every row of the scope is re-sealed under the new generation, in small transactions.
   Each ciphertext names its generation, so the rows left are found from the data itself.
3. finish: in one transaction, whoever was given the old generation meanwhile receives the new
   one too, the new generation becomes active and the old one, with every sealed copy of it,
   is deleted. `key_replaced` tells the other apps (calendar links attested under `record`).

A kill at any point leaves every field readable to the remaining members (before step 3 both
generations open; step 3 is atomic), and running the rotation again continues where it was.
"""

from collections.abc import Callable, Iterator

from django.apps import apps
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from uphold.processes import scopes as scope_rules
from uphold.processes.models import Process

from . import primitives
from .fields import encrypted_fields, generation_of, process_id_of
from .keyring import Keyring, NoKey, chain_mac, using
from .models import ProcessInbox, Rotation, ScopeKey, SealedScopeKey, UserKey
from .services import _inbox_ad, is_attested, pin_own_keys, seal_scope_key

# Sent inside `finish`'s transaction with process, scope, reader (opens the old generation)
# and writer (writes with the new one): whatever is bound to the old key is moved here.
key_replaced = Signal()

BATCH = 50
Progress = Callable[[str], None]


class KeyDoesNotOpen(Exception):
    """The rotator's key does not open what is stored: it is not the process's key."""


class HistoryBroken(Exception):
    """The process's audit chain does not hold, so no row of it vouches for a member's role."""


def check_history(ring: Keyring, process: Process) -> None:
    """A rotation re-records every row it re-seals, so it must not start over damage it would
    then hide: the chain's links and rows (roles included) and, where the rotator can open it,
    its sealed head must hold."""
    from uphold.audit import services as audit

    broken = audit.verify(process)
    if broken is None and ring.holds(process.pk, "record"):
        broken = audit.verify_with_key(ring, process)
    if broken is not None:
        raise HistoryBroken(broken.reason)


@transaction.atomic
def start(ring: Keyring, process: Process, scopes: list[str], actor) -> Rotation:
    """Reuses an unfinished rotation of this process if there is one.

    Before anything is sealed to anyone, the rotator's key must open every ciphertext of the
    scope: a key a database writer slipped into the rotator's keyring would not, and the new
    key is then handed to nobody on its say-so."""
    running = Rotation.objects.filter(process=process, finished_at__isnull=True).first()
    if running:
        return running
    check_history(ring, process)
    pin_own_keys(ring.user_id, ring.private_key)
    for scope in scopes:
        old_generation, old_key = ring.scope_key(process.pk, scope)  # the rotator must hold it
        _check_opens(ring, process, scope)
        key = primitives.random_key()
        newest = ScopeKey.objects.filter(process=process, scope=scope).order_by("-generation")
        new = ScopeKey(
            process=process,
            scope=scope,
            generation=newest.first().generation + 1,
            active=False,
            chain_from=old_generation,
        )
        new.chain_mac = chain_mac(old_key, new, key)
        new.save()
        ring.remember(process.pk, scope, new.generation, key, active=False)
        _carry_over(process, scope, old_generation, old_key, new, key, ring)
    return Rotation.objects.create(process=process, scopes=",".join(scopes), started_by=actor)


def _check_opens(ring: Keyring, process: Process, scope: str) -> None:
    for instance, field, raw in _rows(process, scope):
        try:
            field.open(instance, raw, ring)
        except (NoKey, primitives.CryptoError) as error:
            raise KeyDoesNotOpen(scope) from error


def _carry_over(
    process: Process,
    scope: str,
    old_generation: int,
    old_key: bytes,
    new: ScopeKey,
    key: bytes,
    ring: Keyring,
) -> None:
    """Seals the new generation to each true holder of the old one who lacks it: their role
    (as the chain vouches, see check_history) reads the scope, and their copy is attested."""
    allowed = scope_rules.holders(process.pk, scope)
    has_new = set(new.sealed.values_list("user_id", flat=True))
    rows = SealedScopeKey.objects.filter(
        scope_key__process=process, scope_key__scope=scope, scope_key__generation=old_generation
    ).select_related("scope_key")
    public = dict(UserKey.objects.filter(user_id__in=allowed).values_list("user_id", "public_key"))
    for row in rows:
        membership = allowed.get(row.user_id)
        if membership is None or row.user_id in has_new:
            continue
        if is_attested(old_key, row, bytes(public[row.user_id])):
            seal_scope_key(new, key, membership, own=ring)


def _rows(process: Process, scope: str) -> Iterator[tuple]:
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if not fields:
            continue
        query = model.objects.all()
        if "process" in {f.name for f in model._meta.get_fields()}:
            query = query.filter(process=process)
        elif model is Process:
            query = query.filter(pk=process.pk)
        for instance in query.iterator(chunk_size=BATCH):
            if process_id_of(instance) != process.pk:
                continue
            for field in fields:
                raw = instance.__dict__.get(field.attname)
                if raw is not None and field.scope_for(instance) == scope:
                    yield instance, field, raw


def _writing_ring(ring: Keyring, process: Process, scope: str) -> tuple[Keyring, int]:
    """A keyring that reads every generation but writes with the new one: the newest the
    rotator trusts (a generation inserted by a database writer is not trusted)."""
    generation, key = ring.newest(process.pk, scope)
    writer = Keyring(ring.user_id, ring.private_key)
    writer.remember(process.pk, scope, generation, key)
    return writer, generation


def move(ring: Keyring, rotation: Rotation, progress: Progress = lambda line: None) -> int:
    moved = 0
    for scope in rotation.scope_list:
        writer, new_generation = _writing_ring(ring, rotation.process, scope)
        pending = []
        for instance, field, raw in _rows(rotation.process, scope):
            if generation_of(raw) != new_generation:
                pending.append((instance, field, raw))
            if len(pending) >= BATCH:
                moved += _reseal(ring, writer, pending)
                progress(f"moved {moved}")
                pending = []
        moved += _reseal(ring, writer, pending)
        progress(f"moved {moved}")
    return moved


@transaction.atomic
def _reseal(reader: Keyring, writer: Keyring, rows: list) -> int:
    with using(writer):
        for instance, field, raw in rows:
            plain = field.open(instance, raw, reader)
            type(instance).objects.filter(pk=instance.pk).update(
                **{field.attname: field.seal(instance, plain, writer)}
            )
    return len(rows)


def finish(ring: Keyring, rotation: Rotation) -> None:
    process = rotation.process
    with transaction.atomic():
        for scope in rotation.scope_list:
            writer, new_generation = _writing_ring(ring, process, scope)
            left = [row for row in _rows(process, scope) if generation_of(row[2]) != new_generation]
            _reseal(ring, writer, left)  # whatever was written meanwhile
            new = ScopeKey.objects.get(process=process, scope=scope, generation=new_generation)
            _g, new_key = writer.scope_key(process.pk, scope)
            old_generation, old_key = ring.scope_key(process.pk, scope, new.chain_from)
            # No carry-over here: who receives the new key was decided at the start (a grant
            # made since seals it too); rows put back in the database meanwhile get nothing.
            if scope == "record":
                _reseal_inbox(ring, writer, process, new_generation)
            key_replaced.send(
                sender=Rotation, process=process, scope=scope, reader=ring, writer=writer
            )
            ScopeKey.objects.filter(process=process, scope=scope, active=True).update(active=False)
            ScopeKey.objects.filter(process=process, scope=scope, generation=new_generation).update(
                active=True
            )
            # The old generations stay, retired: nothing is written with them (fields.seal) and
            # nothing stored opens with them any more, but they anchor the chain by which the
            # remaining members trust the new key. A member who leaves loses every copy, and
            # every copy of the retired key that is not a true holder's goes now.
            _prune(process, scope, old_generation, old_key)
            ring.remember(process.pk, scope, new_generation, new_key)  # later writes: the new key
        rotation.finished_at = timezone.now()
        rotation.save(update_fields=["finished_at"])
        if "record" in rotation.scope_list or "respondent" in rotation.scope_list:
            from .services import attest_inbox

            attest_inbox(ring, process)  # else the next group member's view of the process
        from uphold.audit.models import Kind
        from uphold.audit.services import rebaseline, record

        rebaseline(rotation.started_by, process, Kind.ROTATE)
        record(rotation.started_by, process, Kind.ROTATE)


def _prune(process: Process, scope: str, generation: int, key: bytes) -> None:
    allowed = scope_rules.holders(process.pk, scope)
    public = dict(UserKey.objects.filter(user_id__in=allowed).values_list("user_id", "public_key"))
    for row in SealedScopeKey.objects.filter(
        scope_key__process=process, scope_key__scope=scope, scope_key__generation=generation
    ).select_related("scope_key"):
        if row.user_id not in allowed or not is_attested(key, row, bytes(public[row.user_id])):
            row.delete()


def _reseal_inbox(reader: Keyring, writer: Keyring, process: Process, generation: int) -> None:
    """A new inbox key pair under the new `record` key: whoever kept the old record key (and so
    could open the old inbox key) reads nothing sent from now on. What waits to be filed moves
    to the new key. The new public key waits for a group member to vouch for it."""
    from uphold.portal.models import Submission

    inbox = ProcessInbox.objects.get(process=process)
    _g, old = reader.scope_key(process.pk, "record", inbox.record_generation)
    private = primitives.decrypt(old, bytes(inbox.private_sealed), _inbox_ad(process.pk))
    public, new_private = primitives.new_key_pair()
    for pk, sealed in Submission.objects.filter(
        process=process, filed_at__isnull=True, refused_at__isnull=True
    ).values_list("pk", "sealed"):
        try:
            text = primitives.open_sealed(private, bytes(sealed))
        except primitives.CryptoError:
            continue  # not sealed to the inbox: filing refuses it
        Submission.objects.filter(pk=pk).update(sealed=primitives.seal_to(public, text))
    _g, new = writer.scope_key(process.pk, "record")
    inbox.public_key = public
    inbox.private_sealed = primitives.encrypt(new, new_private, _inbox_ad(process.pk))
    inbox.record_generation = generation
    inbox.attestation, inbox.attested_generation = "", None
    inbox.save(
        update_fields=[
            "public_key",
            "private_sealed",
            "record_generation",
            "attestation",
            "attested_generation",
        ]
    )


def run(ring: Keyring, process: Process, scopes: list[str], actor, progress: Progress = print):
    rotation = start(ring, process, scopes, actor)
    progress("started")
    move(ring, rotation, progress)
    finish(ring, rotation)
    progress("finished")
    return rotation


def unfinished(process: Process) -> Rotation | None:
    return Rotation.objects.filter(process=process, finished_at__isnull=True).first()
