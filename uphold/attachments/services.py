"""Writing and reading attachments, one sealed chunk at a time."""

from collections.abc import Iterator

from django.conf import settings
from django.db import transaction

from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto import keyring
from uphold.crypto.primitives import CryptoError
from uphold.processes.models import Membership

from .models import CHUNK_BYTES, Attachment, AttachmentChunk


class TooLarge(Exception):
    pass


def limit_bytes() -> int:
    return settings.UPHOLD_ATTACHMENT_MAX_MB * 1024 * 1024


def _chunk_header(attachment: Attachment, index: int) -> bytes:
    # Sealed with the data, so chunks cannot be reordered or moved between files unnoticed.
    return attachment.pk.bytes + index.to_bytes(4, "big")


class Writer:
    """Receives a file piece by piece and seals each chunk as soon as it is full."""

    def __init__(self, membership: Membership, scope: str, name: str, content_type: str) -> None:
        self.attachment = Attachment(
            process=membership.process,
            scope=scope,
            content_type=(content_type or "application/octet-stream")[:100],
            created_by=membership.user,
        )
        self.attachment.name = name[:255]  # the primary key exists before saving: a UUID
        self.attachment.save()
        self.buffer = bytearray()
        self.size = 0
        self.index = 0
        self.membership = membership

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > limit_bytes():
            raise TooLarge
        self.buffer += data
        while len(self.buffer) >= CHUNK_BYTES:
            self._seal(bytes(self.buffer[:CHUNK_BYTES]))
            del self.buffer[:CHUNK_BYTES]

    def _seal(self, data: bytes) -> None:
        chunk = AttachmentChunk(
            attachment=self.attachment,
            process=self.attachment.process,
            scope=self.attachment.scope,
            index=self.index,
        )
        chunk.data = _chunk_header(self.attachment, self.index) + data
        chunk.save()
        self.index += 1

    def finish(self) -> Attachment:
        if self.buffer:
            self._seal(bytes(self.buffer))
            self.buffer.clear()
        with transaction.atomic():
            self.attachment.size, self.attachment.chunks = self.size, self.index
            self.attachment.complete = True
            self.attachment.save(update_fields=["size", "chunks", "complete"])
            audit.record(
                self.membership.user, self.attachment.process, Kind.CREATE, self.attachment
            )
        return self.attachment

    def abandon(self) -> None:
        self.attachment.delete()


def read(attachment: Attachment) -> Iterator[bytes]:
    """The file's bytes, chunk by chunk, each checked to be the right chunk of this file.

    The keyring is taken now: a streaming response reads after the request's middleware ends.
    """
    return _chunks(attachment, keyring.current())


def _chunks(attachment: Attachment, ring: keyring.Keyring) -> Iterator[bytes]:
    field = AttachmentChunk._meta.get_field("data")
    index = -1
    for index, chunk in enumerate(attachment.parts.order_by("index").iterator(chunk_size=8)):
        data = field.open(chunk, chunk.__dict__["data"], ring)
        if data[:20] != _chunk_header(attachment, index):
            raise CryptoError("attachment chunk out of place")
        yield data[20:]
    if index + 1 != attachment.chunks:
        raise CryptoError("attachment is missing chunks")
