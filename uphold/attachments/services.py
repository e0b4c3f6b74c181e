"""Writing and reading attachments, one sealed chunk at a time."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto import keyring
from uphold.crypto.primitives import CryptoError
from uphold.processes import scopes
from uphold.processes.models import Process
from uphold.processes.permissions import authorize

from .models import CHUNK_BYTES, Attachment, AttachmentChunk


class TooLarge(Exception):
    pass


def limit_bytes() -> int:
    return settings.UPHOLD_ATTACHMENT_MAX_MB * 1024 * 1024


CHUNK_HEADER = 21


def _chunk_header(attachment: Attachment, index: int, final: bool) -> bytes:
    # Sealed with the data: chunks cannot be reordered, moved between files, or cut off the
    # end unnoticed, since only the last one says it is the last.
    return attachment.pk.bytes + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class Writer:
    """Receives a file piece by piece and seals each chunk as soon as a fuller one follows."""

    def __init__(
        self,
        actor,
        process: Process | str,
        scope: str,
        name: str,
        action="documents.upload",
        limit: int | None = None,
    ) -> None:
        membership = authorize(actor, action, process)
        if scope not in scopes.scopes_of(membership):
            raise PermissionDenied
        self.attachment = Attachment(
            process=membership.process, scope=scope, created_by=membership.user
        )
        self.attachment.name = name[:255]  # the primary key exists before saving: a UUID
        self.attachment.save()
        self.buffer = bytearray()
        self.size = 0
        self.index = 0
        self.actor = actor
        self.limit = limit or limit_bytes()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge
        self.buffer += data
        while len(self.buffer) > CHUNK_BYTES:  # keep the last chunk back: it must say "final"
            self._seal(bytes(self.buffer[:CHUNK_BYTES]))
            del self.buffer[:CHUNK_BYTES]

    def _seal(self, data: bytes, final: bool = False) -> None:
        chunk = AttachmentChunk(
            attachment=self.attachment,
            process=self.attachment.process,
            scope=self.attachment.scope,
            index=self.index,
        )
        chunk.data = _chunk_header(self.attachment, self.index, final) + data
        chunk.save()
        self.index += 1

    def finish(self) -> Attachment:
        self._seal(bytes(self.buffer), final=True)
        self.buffer.clear()
        attachment = self.attachment
        with transaction.atomic():
            attachment.size, attachment.chunks, attachment.complete = self.size, self.index, True
            attachment.save(update_fields=["size", "chunks", "complete"])
            audit.record(self.actor, attachment.process, Kind.CREATE, attachment)
        return attachment

    def seal_unfinished(self) -> Attachment:
        """Seals the last chunk but leaves the upload unfinished: a file kept only until the
        member acts on it (mail to import), outside the documents and the chain, and removed
        by the worker after a day if nobody does."""
        self._seal(bytes(self.buffer), final=True)
        self.buffer.clear()
        self.attachment.size, self.attachment.chunks = self.size, self.index
        self.attachment.save(update_fields=["size", "chunks"])
        return self.attachment

    def abandon(self) -> None:
        """Removes the row and its sealed chunks, unless the upload was finished: safe on every
        path. The database says whether it was (an outer transaction may have undone it)."""
        if self.attachment.pk is None:
            return
        deleted, _ = Attachment.objects.filter(pk=self.attachment.pk, complete=False).delete()
        if deleted:
            self.attachment.pk = None


STALE_AFTER = timedelta(days=1)


def remove_stale_uploads(now: datetime | None = None) -> int:
    """Removes uploads never finished that began more than a day ago; returns how many.

    Views remove a refused or failed upload at once; these are what a server process killed
    mid-upload, or a database gone away while a view cleaned up, left behind. They hold only
    sealed chunks, need no key to remove, and were never recorded in the audit chain
    (`Writer.finish` records an attachment as it completes it), so removing them leaves the
    chain whole. Rows are locked first: an upload finished meanwhile stays.
    """
    cutoff = (now or timezone.now()) - STALE_AFTER
    with transaction.atomic():
        stale = list(
            Attachment.objects.select_for_update()
            .filter(complete=False, created_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        if not stale:
            return 0
        _, removed = Attachment.objects.filter(pk__in=stale, complete=False).delete()
    return removed.get(Attachment._meta.label, 0)


def read(attachment: Attachment) -> Iterator[bytes]:
    """The file's bytes, chunk by chunk, each checked to be the right chunk of this file.

    The keyring is taken now: a streaming response reads after the request's middleware ends.
    """
    return _chunks(attachment, keyring.current())


def _chunks(attachment: Attachment, ring: keyring.Keyring) -> Iterator[bytes]:
    field = AttachmentChunk._meta.get_field("data")
    ended = False
    for index, chunk in enumerate(attachment.parts.order_by("index").iterator(chunk_size=8)):
        data = field.open(chunk, chunk.__dict__["data"], ring)
        final = data[CHUNK_HEADER - 1 : CHUNK_HEADER] == b"\x01"
        if ended or data[:CHUNK_HEADER] != _chunk_header(attachment, index, final):
            raise CryptoError("attachment chunk out of place")
        ended = final
        yield data[CHUNK_HEADER:]
    if not ended:
        raise CryptoError("attachment is cut short")
