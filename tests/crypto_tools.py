"""What a copy of the database gives away: every ciphertext of every encrypted field, and an
attempt to open each with a given keyring. Grows by itself with every new encrypted field."""

from django.apps import apps

from uphold.attachments.services import CHUNK_HEADER
from uphold.crypto.fields import Sealed, encrypted_fields, process_id_of
from uphold.crypto.keyring import Keyring, NoKey, using
from uphold.crypto.primitives import CryptoError


def every_ciphertext():
    """(model, field, instance, raw) for every stored encrypted value."""
    for model in apps.get_models():
        for field in encrypted_fields(model):
            for instance in model.objects.exclude(**{f"{field.attname}__isnull": True}):
                raw = instance.__dict__[field.attname]
                assert isinstance(raw, Sealed)
                yield model, field, instance, raw


def open_everything(keyring: Keyring, process_id: int | None = None) -> dict[str, list[str]]:
    """Field label -> the plain texts this keyring opens (in one process, if named)."""
    opened: dict[str, list[str]] = {}
    with using(keyring):
        for model, field, instance, raw in every_ciphertext():
            if process_id is not None and process_id_of(instance) != process_id:
                continue
            try:
                text = field.open(instance, raw, keyring)
            except (NoKey, CryptoError):
                continue
            if isinstance(text, bytes):
                text = text[CHUNK_HEADER:].decode(errors="replace")  # its position comes first
            opened.setdefault(f"{model._meta.label_lower}.{field.name}", []).append(text)
    return opened


def encrypted_field_labels() -> set[str]:
    return {
        f"{model._meta.label_lower}.{field.name}"
        for model in apps.get_models()
        for field in encrypted_fields(model)
    }
