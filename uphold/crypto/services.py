"""Every write of key material: user keys, scope keys, granting, revoking, the process inbox."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from mnemonic import Mnemonic

from uphold.processes import scopes
from uphold.processes.models import Membership, Process

from . import primitives
from .keyring import Keyring, NoKey, pin_mac
from .models import ProcessInbox, ScopeKey, SealedScopeKey, UserKey

WORDS = Mnemonic("english")


def _private_ad(user_id: int, how: str) -> bytes:
    return f"uphold-v1|user-private|{user_id}|{how}".encode()


def _sealed_by_password(user, private_key: bytes, password: str) -> dict:
    salt, params = primitives.new_salt(), primitives.kdf_params()
    derived = primitives.derive_key(password, salt, params)
    return {
        "password_salt": salt,
        "kdf_opslimit": params.opslimit,
        "kdf_memlimit": params.memlimit,
        "private_by_password": primitives.encrypt(
            derived, private_key, _private_ad(user.pk, "password")
        ),
    }


def create_user_key(user, password: str) -> str:
    """Makes the user's key pair; returns the recovery words, to be shown once and never kept."""
    public, private = primitives.new_key_pair()
    recovery = primitives.random_key()
    UserKey.objects.create(
        user=user,
        public_key=public,
        private_by_recovery=primitives.encrypt(recovery, private, _private_ad(user.pk, "recovery")),
        **_sealed_by_password(user, private, password),
    )
    return WORDS.to_mnemonic(recovery)


def replace_user_key(user, password: str) -> str:
    """After an admin reset: a new key pair. The old private key is lost with the old password,
    so every scope key sealed to it is deleted; members must grant access again."""
    SealedScopeKey.objects.filter(user=user).delete()
    UserKey.objects.filter(user=user).delete()
    return create_user_key(user, password)


def unlock(user, password: str) -> bytes:
    """The private key, from the password. Raises CryptoError for a wrong password, and
    UnsafeKdfParams, before deriving anything, when the stored Argon2 parameters are out of
    bounds (see primitives.check_kdf_params)."""
    key = UserKey.objects.get(user=user)
    params = primitives.KdfParams(key.kdf_opslimit, key.kdf_memlimit)
    derived = primitives.derive_key(password, bytes(key.password_salt), params)
    return primitives.decrypt(
        derived, bytes(key.private_by_password), _private_ad(user.pk, "password")
    )


def unlock_with_recovery(user, words: str) -> bytes:
    try:
        recovery = bytes(WORDS.to_entropy(" ".join(words.lower().split())))
    except (ValueError, LookupError) as error:
        raise primitives.CryptoError("not a valid recovery phrase") from error
    key = UserKey.objects.get(user=user)
    return primitives.decrypt(
        recovery, bytes(key.private_by_recovery), _private_ad(user.pk, "recovery")
    )


def reseal_under_password(user, private_key: bytes, password: str) -> None:
    """After a password change: same key pair, a new salt, the current parameters."""
    salt, params = primitives.new_salt(), primitives.kdf_params()
    UserKey.objects.filter(user=user).update(
        password_salt=salt,
        kdf_opslimit=params.opslimit,
        kdf_memlimit=params.memlimit,
        private_by_password=primitives.encrypt(
            primitives.derive_key(password, salt, params),
            private_key,
            _private_ad(user.pk, "password"),
        ),
    )


class NotAHolder(Exception):
    """Refused: that person's role does not read the scope (or they are not a member)."""


def _attestation(key: bytes, scope_key: ScopeKey, user_id: int, public: bytes) -> str:
    message = primitives.scope_key_context(
        scope_key.process_id, scope_key.scope, scope_key.generation
    )
    return primitives.key_mac(key, b"uphold-attest", message + f"{user_id}|".encode() + public)


def is_attested(key: bytes, sealed: SealedScopeKey, public: bytes) -> bool:
    """The row was made by a holder of `key`, for this user and this public key."""
    expected = _attestation(key, sealed.scope_key, sealed.user_id, public)
    return primitives.same_mac(sealed.attestation, expected)


def seal_scope_key(
    scope_key: ScopeKey, key: bytes, membership: Membership, own: Keyring | None = None
) -> None:
    """Every scope key given to a person goes through here, and only to a holder by role.

    `own` is the actor's keyring when the actor seals to themselves (a new process, a
    rotation): their copy is pinned at once."""
    if not scopes.may_hold(membership, scope_key.process_id, scope_key.scope):
        raise NotAHolder(f"{membership.role} does not read {scope_key.scope}")
    public = bytes(UserKey.objects.get(user_id=membership.user_id).public_key)
    context = primitives.scope_key_context(
        scope_key.process_id, scope_key.scope, scope_key.generation
    )
    mine = own is not None and own.user_id == membership.user_id and own.private_key
    SealedScopeKey.objects.update_or_create(
        scope_key=scope_key,
        user_id=membership.user_id,
        defaults={
            "sealed": primitives.seal_to(public, context + key),
            "attestation": _attestation(key, scope_key, membership.user_id, public),
            "holder_mac": pin_mac(own.private_key, scope_key, key) if mine else "",
        },
    )


def pin_own_keys(user_id: int, private_key: bytes) -> None:
    """At login: the member pins every key row their keyring trusts (see keyring.py), and
    vouches for rows from before attestations existed, with the public key derived from
    their private key (not the stored one). Rows it does not trust are left as they are."""
    public = primitives.public_of(private_key)
    rings: dict[int, Keyring] = {}
    rows = SealedScopeKey.objects.filter(user_id=user_id).select_related("scope_key")
    for sealed in rows.order_by("scope_key__process_id", "scope_key__generation"):
        scope_key = sealed.scope_key
        ring = rings.setdefault(scope_key.process_id, Keyring(user_id, private_key))
        try:
            _g, key = ring.trust(sealed)
        except (NoKey, primitives.CryptoError):
            continue
        pin = pin_mac(private_key, scope_key, key)
        attestation = sealed.attestation or _attestation(key, scope_key, user_id, public)
        if (sealed.holder_mac, sealed.attestation) != (pin, attestation):
            SealedScopeKey.objects.filter(pk=sealed.pk).update(
                holder_mac=pin, attestation=attestation
            )


def fingerprint_of(user) -> str:
    return primitives.fingerprint(bytes(UserKey.objects.get(user=user).public_key))


def _inbox_ad(process_id: int) -> bytes:
    return f"uphold-v1|inbox-private|{process_id}".encode()


@transaction.atomic
def create_process_keys(process: Process, founder: Membership, ring: Keyring) -> None:
    """A fresh key for every scope, sealed to the founder for each scope their role reads."""
    held = scopes.scopes_of(founder)
    for scope in scopes.READERS:
        key = primitives.random_key()
        scope_key = ScopeKey.objects.create(process=process, scope=scope, generation=1)
        if scope in held:
            seal_scope_key(scope_key, key, founder, own=ring)
            ring.remember(process.pk, scope, 1, key)
    generation, record = ring.scope_key(process.pk, scopes.RECORD)
    public, private = primitives.new_key_pair()
    ProcessInbox.objects.create(
        process=process,
        public_key=public,
        private_sealed=primitives.encrypt(record, private, _inbox_ad(process.pk)),
        record_generation=generation,
    )
    attest_inbox(ring, process)


@dataclass
class Stray:
    """A sealed key someone holds outside their role, or that no holder of the key made."""

    scope: str
    username: str
    reason: str
    label: str = ""  # what the key opens, in words (filled in by processes.keycheck)


@dataclass
class Access:
    membership: Membership
    missing: list[str]
    fingerprint: str


def access_of(process: Process, strays: list[Stray] = ()) -> list[Access]:
    """Each member with the scopes their role reads but for which they hold no key yet. A key
    row among `strays` (see stray_keys) does not count as held."""
    held: dict[int, set[str]] = {}
    doubtful = {(stray.username, stray.scope) for stray in strays}
    for user_id, username, scope in SealedScopeKey.objects.filter(
        scope_key__process=process, scope_key__active=True
    ).values_list("user_id", "user__username", "scope_key__scope"):
        if (username, scope) not in doubtful:
            held.setdefault(user_id, set()).add(scope)
    public = dict(
        UserKey.objects.filter(user__memberships__process=process).values_list(
            "user_id", "public_key"
        )
    )
    return [
        Access(
            m,
            sorted(scopes.scopes_of(m) - held.get(m.user_id, set())),
            primitives.fingerprint(bytes(public[m.user_id])),
        )
        for m in process.memberships.select_related("user")
    ]


@transaction.atomic
def grant(ring: Keyring, membership: Membership, fingerprint: str) -> list[str]:
    """Seals to the member every scope key their role reads that the granter holds.

    `fingerprint` is what the granter checked with the person; a key swapped in the database
    meanwhile does not match, and nothing is given. While a rotation runs, the new generation
    is sealed too, so the member keeps access when it finishes. Returns the scopes still missing.
    """
    if fingerprint != fingerprint_of(membership.user):
        raise ValidationError(
            _("That key fingerprint does not match. Check it with the person again.")
        )
    still_missing = []
    for scope in scopes.scopes_of(membership):
        if not ring.holds(membership.process_id, scope):
            still_missing.append(scope)
            continue
        current = (
            ScopeKey.objects.filter(process_id=membership.process_id, scope=scope, active=True)
            .values_list("generation", flat=True)
            .first()
        ) or 0
        # The current key and, while a rotation runs, the new one; never a retired key.
        for scope_key in ScopeKey.objects.filter(
            process_id=membership.process_id, scope=scope, generation__gte=current
        ):
            try:
                _g, this = ring.scope_key(membership.process_id, scope, scope_key.generation)
            except NoKey:
                continue  # the rotation's end seals it to every holder of the older one
            seal_scope_key(scope_key, this, membership)
    return still_missing


def stray_keys(process: Process, ring: Keyring | None = None) -> list[Stray]:
    """Every key row that the role rule does not explain. Without a key, who holds what is
    checked against the roles; with one, also that each row of the scopes `ring` opens was
    made by a holder of that key for the member's public key as stored now."""
    members = {m.user_id: m for m in process.memberships.all()}
    rows = list(
        SealedScopeKey.objects.filter(scope_key__process=process)
        .select_related("scope_key", "user")
        .order_by("scope_key__scope", "user__username", "scope_key__generation")
    )
    public = dict(
        UserKey.objects.filter(user_id__in={r.user_id for r in rows}).values_list(
            "user_id", "public_key"
        )
    )
    found = []
    for row in rows:
        scope_key, membership = row.scope_key, members.get(row.user_id)
        if membership is None:
            reason = _("holds a key but is not a member")
        elif not scopes.may_hold(membership, process.pk, scope_key.scope):
            reason = _("holds a key that their role does not read")
        elif ring is not None and row.user_id == ring.user_id and not _trusted(ring, row):
            reason = _("holds a key that does not follow from the keys they trust")
        elif (
            ring is not None
            and row.attestation  # empty: from before attestations; never used by a rotation
            and not _made_by_holder(ring, row, public.get(row.user_id))
        ):
            reason = _("holds a key that no member gave them, or their key was replaced")
        else:
            continue
        found.append(Stray(scope_key.scope, row.user.username, str(reason)))
    return found


def _trusted(ring: Keyring, row: SealedScopeKey) -> bool:
    try:
        ring.trust(row)
    except (NoKey, primitives.CryptoError):
        return False
    return True


def _made_by_holder(ring: Keyring, row: SealedScopeKey, public: bytes | None) -> bool:
    scope_key = row.scope_key
    try:
        _g, key = ring.scope_key(scope_key.process_id, scope_key.scope, scope_key.generation)
    except (NoKey, primitives.CryptoError):
        return True  # not this verifier's to judge
    return public is not None and is_attested(key, row, bytes(public))


def revoke(membership: Membership) -> None:
    """Deletes the member's sealed copies; what they could read before stays readable to them
    only through copies they kept, which is why removal offers rotation."""
    SealedScopeKey.objects.filter(
        scope_key__process_id=membership.process_id, user_id=membership.user_id
    ).delete()


def seal_to_inbox(process: Process, plaintext: bytes) -> bytes:
    """Sealed to the inbox's public key as stored, unchecked: a database writer may have put
    their own there. What a person sends goes through `seal_to_attested_inbox` instead."""
    return primitives.seal_to(bytes(process.inbox.public_key), plaintext)


class UntrustedInbox(Exception):
    """The inbox's public key is not vouched for by a holder of the `respondent` key."""


def _inbox_attestation(
    key: bytes, process_id: int, generation: int, public: bytes, record_generation: int
) -> str:
    message = f"{process_id}|{generation}|{record_generation}|".encode() + public
    return primitives.key_mac(key, b"uphold-inbox", message)


def attest_inbox(ring: Keyring, process: Process) -> bool:
    """A group member vouches for the inbox's public key under the current `respondent` key,
    once they have checked it is the public half of the private key sealed under a live
    `record` key (never a retired one, which a former member may have kept and sealed their
    own key under). Does nothing when the attestation stands already. Returns whether it
    stands now."""
    inbox = ProcessInbox.objects.get(process=process)
    if inbox.record_generation not in ring.live_generations(process.pk, scopes.RECORD):
        return False
    try:
        generation, key = ring.scope_key(process.pk, scopes.RESPONDENT)
        _g, record = ring.scope_key(process.pk, scopes.RECORD, inbox.record_generation)
    except NoKey:
        return False
    public = bytes(inbox.public_key)
    expected = _inbox_attestation(key, process.pk, generation, public, inbox.record_generation)
    if inbox.attested_generation == generation and primitives.same_mac(inbox.attestation, expected):
        return True
    try:
        private = primitives.decrypt(record, bytes(inbox.private_sealed), _inbox_ad(process.pk))
    except primitives.CryptoError:
        return False
    if primitives.public_of(private) != public:
        return False  # a public key that is not the inbox's: never vouched for
    ProcessInbox.objects.filter(pk=inbox.pk).update(
        attestation=expected, attested_generation=generation
    )
    return True


def seal_to_attested_inbox(ring: Keyring, process: Process, plaintext: bytes) -> bytes:
    """For X's portal: sealed to the inbox only if a holder of the live `respondent` key
    vouched for its public key (attest_inbox); else UntrustedInbox, and nothing is sealed. An
    attestation under a retired key (which a former member may have kept) does not count."""
    inbox = ProcessInbox.objects.get(process=process)
    public = bytes(inbox.public_key)
    generation = inbox.attested_generation
    if generation is None:
        raise UntrustedInbox("no member has vouched for the inbox yet")
    if generation not in ring.live_generations(process.pk, scopes.RESPONDENT):
        raise UntrustedInbox("the inbox was vouched for under a key that is not live")
    try:
        _g, key = ring.scope_key(process.pk, scopes.RESPONDENT, generation)
    except NoKey as error:
        raise UntrustedInbox("the key that vouched for the inbox is not this member's") from error
    expected = _inbox_attestation(key, process.pk, generation, public, inbox.record_generation)
    if not primitives.same_mac(inbox.attestation, expected):
        raise UntrustedInbox("the inbox's public key is not the one a member vouched for")
    return primitives.seal_to(public, plaintext)


def portal_mac(ring: Keyring, process_id: int, message: bytes, generation: int | None = None):
    """(generation, MAC) of what X sent, under the `respondent` key: only X and the groups
    hold it, so a row a database writer inserts cannot carry one."""
    generation, key = ring.scope_key(process_id, scopes.RESPONDENT, generation)
    return generation, primitives.key_mac(key, b"uphold-portal", message)


def open_from_inbox(ring: Keyring, process: Process, blob: bytes) -> bytes:
    inbox = process.inbox
    _generation, record = ring.scope_key(process.pk, scopes.RECORD, inbox.record_generation)
    private = primitives.decrypt(record, bytes(inbox.private_sealed), _inbox_ad(process.pk))
    return primitives.open_sealed(private, blob)
