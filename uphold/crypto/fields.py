"""The one encrypted field type. Every sensitive text in Uphold is an EncryptedTextField.

In the database a value is: magic (2 bytes) | scope key generation (4 bytes) | nonce | AEAD.
The associated data binds table, column, row, process and scope, so a ciphertext copied to
another row, column or scope does not open: reading it raises CryptoError instead of showing
someone else's text. On the model instance the value is plain text, decrypted on first access
with the current keyring.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models

from . import keyring, primitives
from .models import ScopeKey

MAGIC = b"U1"
HEADER = len(MAGIC) + 4

ScopeSpec = str | Callable[[models.Model], str]


# (process id, scope, generation) of the keys found live within `checking_keys_once`.
_found_live: ContextVar[set[tuple[int, str, int]] | None] = ContextVar("found_live", default=None)


@contextmanager
def checking_keys_once() -> Iterator[None]:
    """For a service writing many rows in one transaction: each key is checked to be live at
    its first seal and once more at the end, instead of at every seal. The last check comes
    after the last seal, as it does without this, so a rotation that finishes meanwhile is
    still caught before the transaction commits."""
    if _found_live.get() is not None:
        yield
        return
    found: set[tuple[int, str, int]] = set()
    token = _found_live.set(found)
    try:
        yield
    finally:
        _found_live.reset(token)
    for process_id, scope, generation in found:
        _check_live(process_id, scope, generation)


def _check_live(process_id: int, scope: str, generation: int) -> None:
    if not ScopeKey.objects.filter(
        process_id=process_id, scope=scope, generation__lte=generation, active=True
    ).exists():
        # A rotation finished since this keyring opened the key (the key is retired, or
        # gone): writing with it would leave text the remaining members' new key does not
        # open, or that a former member's copy opens.
        raise keyring.NoKey(f"{scope} key {generation} was replaced; try again")


class Sealed(bytes):
    """A value as loaded from the database, not yet opened."""


def process_id_of(instance: models.Model) -> int:
    explicit = getattr(type(instance), "crypto_process_id", None)
    return explicit.fget(instance) if isinstance(explicit, property) else instance.process_id


def associated_data(instance: models.Model, field: "EncryptedTextField", scope: str) -> bytes:
    return "|".join(
        [
            "uphold-v1",
            instance._meta.db_table,
            field.column,
            str(instance.pk),
            str(process_id_of(instance)),
            scope,
        ]
    ).encode()


def generation_of(raw: bytes) -> int:
    if raw[: len(MAGIC)] != MAGIC:
        raise primitives.CryptoError("not an Uphold ciphertext")
    return int.from_bytes(raw[len(MAGIC) : HEADER], "big")


class _Plaintext:
    """Opens the stored value on first read; keeps the text on the instance, never on disk."""

    def __init__(self, field: "EncryptedTextField") -> None:
        self.field = field

    def __get__(self, instance, owner):
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return self.field.empty if value is None else value

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.BinaryField):
    # An empty text is stored as NULL, so no ciphertext exists for a field left empty.
    empty = ""

    def __init__(self, *args, scope: ScopeSpec, **kwargs) -> None:
        self.scope = scope
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["scope"] = self.scope if isinstance(self.scope, str) else "callable"
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        setattr(cls, self.attname, _Plaintext(self))

    def scope_for(self, instance: models.Model) -> str:
        return self.scope if isinstance(self.scope, str) else self.scope(instance)

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(bytes(value))

    def pre_save(self, model_instance: models.Model, add: bool):
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, Sealed):
            return value
        if value == self.empty:
            return None
        return self.seal(model_instance, value)

    def to_bytes(self, value) -> bytes:
        return str(value).encode()

    def from_bytes(self, data: bytes):
        return data.decode()

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is not None and not isinstance(value, Sealed):
            raise TypeError("an encrypted field is written only as a sealed value")
        return super().get_db_prep_value(value, connection, prepared)

    def seal(self, instance: models.Model, value, ring: keyring.Keyring | None = None) -> Sealed:
        if instance.pk is None:
            raise ValueError(f"save {type(instance).__name__} before setting {self.name}")
        scope = self.scope_for(instance)
        ring = ring or keyring.current()
        process_id = process_id_of(instance)
        generation, key = ring.scope_key(process_id, scope)
        found = _found_live.get()
        if found is None or (process_id, scope, generation) not in found:
            _check_live(process_id, scope, generation)
            if found is not None:
                found.add((process_id, scope, generation))
        body = primitives.encrypt(key, self.to_bytes(value), associated_data(instance, self, scope))
        return Sealed(MAGIC + generation.to_bytes(4, "big") + body)

    def open(self, instance: models.Model, raw: bytes, ring: keyring.Keyring | None = None):
        scope = self.scope_for(instance)
        ring = ring or keyring.current()
        _generation, key = ring.scope_key(process_id_of(instance), scope, generation_of(raw))
        data = primitives.decrypt(key, raw[HEADER:], associated_data(instance, self, scope))
        return self.from_bytes(data)


class EncryptedBinaryField(EncryptedTextField):
    """The same seal around bytes: attachment chunks."""

    empty = None

    def to_bytes(self, value) -> bytes:
        return bytes(value)

    def from_bytes(self, data: bytes) -> bytes:
        return data


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
