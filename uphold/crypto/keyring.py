"""The keys one actor holds for one request or command, opened on demand and kept in memory.

A keyring is made from the actor's private key (unsealed from the session, or from a password
in the CLI). The encrypted fields ask the current keyring for a scope key; the worker's keyring
holds no private key and can only seal to a process inbox.

Anyone can seal a key to a member's public key, a database writer included, so a key row that
opens is not yet a key to use. A keyring trusts a row only if the member pinned it (see
`pin_mac`), if it follows by its chain MAC from a key the keyring trusts (a rotation), or, the
first time, if the member has pinned no key in the process at all (trust on first use, at the
moment access is given). Anything else raises `UntrustedKey`, so a database writer cannot make
a member write under, re-seal, or hand on a key of his own.
"""

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar

from . import primitives
from .models import ScopeKey, SealedScopeKey

_current: ContextVar["Keyring"] = ContextVar("uphold_keyring")


class NoKey(Exception):
    """The actor holds no key for that scope of that process (not theirs to read, or not yet)."""


def opened(read, locked=None):
    """`read()`, a sealed text; `locked` for a member whose keys do not open it (yet), so a
    page of clear figures still shows them."""
    try:
        return read()
    except NoKey:
        return locked


MAX_CHAIN = 50  # rotations a key may be followed back through without a pin


class UntrustedKey(NoKey):
    """A key row opens, but nothing the actor trusts vouches for it: it is not used."""


def pin_mac(private_key: bytes, scope_key: ScopeKey, key: bytes) -> str:
    """The holder's pin: only the holder of `private_key` can make or check it."""
    return primitives.key_mac(private_key, b"uphold-pin", _about(scope_key, key))


def chain_mac(previous: bytes, scope_key: ScopeKey, key: bytes) -> str:
    """Made by a rotation under the key generation `scope_key.chain_from` it replaces."""
    message = _about(scope_key, key) + f"from|{scope_key.chain_from}".encode()
    return primitives.key_mac(previous, b"uphold-chain", message)


def _about(scope_key: ScopeKey, key: bytes) -> bytes:
    context = primitives.scope_key_context(
        scope_key.process_id, scope_key.scope, scope_key.generation
    )
    return context + hashlib.sha256(key).digest()


class Keyring:
    def __init__(self, user_id: int | None, private_key: bytes | None) -> None:
        self.user_id = user_id
        self.private_key = private_key
        self._keys: dict[tuple[int, str, int | None], tuple[int, bytes]] = {}
        self._pinned: dict[int, bool] = {}
        self._depth = 0
        self._live: dict[tuple[int, str], set[int]] = {}
        self._preloaded: set[int] = set()

    def scope_key(
        self, process_id: int, scope: str, generation: int | None = None
    ) -> tuple[int, bytes]:
        """(generation, key); unless one is named, the newest generation this actor trusts.

        Not the one marked active: a database writer can move that mark, for instance back to
        a retired key that a former member kept, and members would then write under it."""
        wanted = (process_id, scope, generation)
        if wanted not in self._keys and process_id not in self._preloaded:
            # The first key of a process opens all this actor holds in it, in one query: a
            # page then costs the same whichever scopes its rows happen to be under.
            self._preloaded.add(process_id)
            self.preload(process_id)
        if wanted not in self._keys:
            self._keys[wanted] = self._open(process_id, scope, generation)
        return self._keys[wanted]

    def holds(self, process_id: int, scope: str) -> bool:
        try:
            self.scope_key(process_id, scope)
        except NoKey:
            return False
        return True

    def remember(
        self, process_id: int, scope: str, generation: int, key: bytes, active: bool = True
    ) -> None:
        """A key this actor has just made (a new process, a rotation)."""
        self._keys[(process_id, scope, generation)] = (generation, key)
        if active:
            self._keys[(process_id, scope, None)] = (generation, key)

    def preload(self, process_id: int) -> None:
        """Opens every key this actor holds and trusts in the process, in one query (pages
        that check many scopes and generations)."""
        if self.private_key is None:
            return
        for sealed in self._rows(process_id).order_by("scope_key__generation"):
            scope_key = sealed.scope_key
            try:
                opened = self.trust(sealed)
            except (NoKey, primitives.CryptoError):
                continue
            self._keys[(process_id, scope_key.scope, scope_key.generation)] = opened
            self._keys[(process_id, scope_key.scope, None)] = opened  # ascending: the newest

    def newest(self, process_id: int, scope: str) -> tuple[int, bytes]:
        """The newest generation this actor trusts, looked up again rather than remembered
        (a rotation may have made one since)."""
        found = self._open(process_id, scope, None)
        self._keys[(process_id, scope, found[0])] = found
        return found

    def _rows(self, process_id: int):
        return SealedScopeKey.objects.filter(
            scope_key__process_id=process_id, user_id=self.user_id
        ).select_related("scope_key")

    def _open(self, process_id: int, scope: str, generation: int | None) -> tuple[int, bytes]:
        if self.private_key is None:
            raise NoKey(scope)
        rows = self._rows(process_id).filter(scope_key__scope=scope)
        if generation is not None:
            sealed = rows.filter(scope_key__generation=generation).first()
            if sealed is None:
                raise NoKey(scope)
            return self.trust(sealed)
        for sealed in rows.order_by("-scope_key__generation"):
            try:
                return self.trust(sealed)
            except (UntrustedKey, primitives.CryptoError):
                continue
        raise NoKey(scope)

    def trust(self, sealed: SealedScopeKey) -> tuple[int, bytes]:
        """The row's key if this keyring trusts it, else UntrustedKey."""
        generation, key = self._unseal(sealed)
        scope_key = sealed.scope_key
        if primitives.same_mac(sealed.holder_mac, pin_mac(self.private_key, scope_key, key)):
            return generation, key
        if self._follows(scope_key, key):
            return generation, key
        if self._first_given(sealed):
            return generation, key
        raise UntrustedKey(scope_key.scope)

    def _follows(self, scope_key: ScopeKey, key: bytes) -> bool:
        """Chained from a trusted generation; the walk is bounded (a forged chain is long)."""
        if scope_key.chain_from is None or not 0 < scope_key.chain_from < scope_key.generation:
            return False
        if self._depth >= MAX_CHAIN:
            return False
        self._depth += 1
        try:
            _g, previous = self.scope_key(
                scope_key.process_id, scope_key.scope, scope_key.chain_from
            )
        except (NoKey, primitives.CryptoError):
            return False
        finally:
            self._depth -= 1
        return primitives.same_mac(scope_key.chain_mac, chain_mac(previous, scope_key, key))

    def _first_given(self, sealed: SealedScopeKey) -> bool:
        """Trust on first use: the member has pinned nothing in the process yet, and this is
        their oldest key of the scope (any later one must follow from it by its chain)."""
        process_id, scope = sealed.scope_key.process_id, sealed.scope_key.scope
        if process_id not in self._pinned:
            self._pinned[process_id] = self._rows(process_id).exclude(holder_mac="").exists()
        if self._pinned[process_id]:
            return False
        oldest = (
            self._rows(process_id)
            .filter(scope_key__scope=scope)
            .order_by("scope_key__generation")
            .values_list("scope_key__generation", flat=True)
            .first()
        )
        return sealed.scope_key.generation == oldest

    def live_generations(self, process_id: int, scope: str) -> set[int]:
        """What an attestation (a feed, the chain head) may be made under: the newest trusted
        generation, and while it is not yet the active one (a rotation runs), the one it
        follows. A retired key, which a former member may have kept, is not among them."""
        if (process_id, scope) in self._live:
            return self._live[(process_id, scope)]
        try:
            newest, _key = self.scope_key(process_id, scope)
        except (NoKey, primitives.CryptoError):
            return set()
        scope_key = ScopeKey.objects.filter(
            process_id=process_id, scope=scope, generation=newest
        ).first()
        live = {newest}
        if scope_key is not None and not scope_key.active and scope_key.chain_from:
            live.add(scope_key.chain_from)
        self._live[(process_id, scope)] = live
        return live

    def _unseal(self, sealed: SealedScopeKey) -> tuple[int, bytes]:
        opened = primitives.open_sealed(self.private_key, bytes(sealed.sealed))
        scope_key = sealed.scope_key
        context = primitives.scope_key_context(
            scope_key.process_id, scope_key.scope, scope_key.generation
        )
        if not opened.startswith(context) or len(opened) != len(context) + primitives.KEY_BYTES:
            raise primitives.CryptoError("a scope key sealed for another place")
        return scope_key.generation, opened[len(context) :]


NOBODY = Keyring(None, None)


def current() -> Keyring:
    return _current.get(NOBODY)


@contextmanager
def using(keyring: Keyring):
    token = _current.set(keyring)
    try:
        yield keyring
    finally:
        _current.reset(token)


def activate(keyring: Keyring) -> None:
    """For a whole request or command: the middleware and the CLI set it once."""
    _current.set(keyring)
