"""The keys one actor holds for one request or command, opened on demand and kept in memory.

A keyring is made from the actor's private key (unsealed from the session, or from a password
in the CLI). The encrypted fields ask the current keyring for a scope key; the worker's keyring
holds no private key and can only seal to a process inbox.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from . import primitives
from .models import ScopeKey, SealedScopeKey

_current: ContextVar["Keyring"] = ContextVar("uphold_keyring")


class NoKey(Exception):
    """The actor holds no key for that scope of that process (not theirs to read, or not yet)."""


class Keyring:
    def __init__(self, user_id: int | None, private_key: bytes | None) -> None:
        self.user_id = user_id
        self.private_key = private_key
        self._keys: dict[tuple[int, str, int | None], tuple[int, bytes]] = {}

    def scope_key(
        self, process_id: int, scope: str, generation: int | None = None
    ) -> tuple[int, bytes]:
        """(generation, key); the active generation unless one is named."""
        wanted = (process_id, scope, generation)
        if wanted not in self._keys:
            self._keys[wanted] = self._open(process_id, scope, generation)
        return self._keys[wanted]

    def holds(self, process_id: int, scope: str) -> bool:
        try:
            self.scope_key(process_id, scope)
        except NoKey:
            return False
        return True

    def remember(self, process_id: int, scope: str, generation: int, key: bytes) -> None:
        """A key this actor has just made (a new process, a rotation)."""
        self._keys[(process_id, scope, generation)] = (generation, key)
        self._keys[(process_id, scope, None)] = (generation, key)

    def preload(self, process_id: int) -> None:
        """Opens every key this actor holds in the process, in one query (pages that check
        many scopes and generations)."""
        if self.private_key is None:
            return
        for sealed in SealedScopeKey.objects.filter(
            scope_key__process_id=process_id, user_id=self.user_id
        ).select_related("scope_key"):
            scope_key = sealed.scope_key
            try:
                opened = self._unseal(sealed)
            except primitives.CryptoError:
                continue
            self._keys[(process_id, scope_key.scope, scope_key.generation)] = opened
            if scope_key.active:
                self._keys[(process_id, scope_key.scope, None)] = opened

    def _open(self, process_id: int, scope: str, generation: int | None) -> tuple[int, bytes]:
        if self.private_key is None:
            raise NoKey(scope)
        keys = ScopeKey.objects.filter(process_id=process_id, scope=scope)
        keys = keys.filter(generation=generation) if generation else keys.filter(active=True)
        sealed = (
            SealedScopeKey.objects.filter(scope_key__in=keys, user_id=self.user_id)
            .select_related("scope_key")
            .first()
        )
        if sealed is None:
            raise NoKey(scope)
        return self._unseal(sealed)

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
