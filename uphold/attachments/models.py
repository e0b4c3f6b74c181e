"""Encrypted attachments, stored in chunks so no file ever sits whole in memory or on disk.

An attachment lives in the scope of the item it belongs to; each chunk is sealed on its own,
bound to its row, so chunks cannot be reordered or swapped between files unnoticed.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedBinaryField, EncryptedTextField
from uphold.processes import scopes

CHUNK_BYTES = 64 * 1024


class Attachment(Chained, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="attachments"
    )
    scope = models.CharField(max_length=16, choices=[(s, s) for s in scopes.READERS])
    name = EncryptedTextField(scope=lambda attachment: attachment.scope)
    size = models.PositiveBigIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"attachment {self.pk}"

    def audit_name(self) -> str:
        return _("document %(name)s") % {"name": self.name}

    def audit_name_locked(self) -> str:
        return str(_("a document"))

    @classmethod
    def chained_rows(cls, process_id: int) -> models.QuerySet:
        # An upload enters the chain when it is complete; an unfinished one is removed.
        return cls._default_manager.filter(process_id=process_id, complete=True)


class AttachmentChunk(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="parts")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=16)
    index = models.PositiveIntegerField()
    data = EncryptedBinaryField(scope=lambda chunk: chunk.scope)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attachment", "index"], name="one_chunk_per_index")
        ]
        ordering = ["attachment", "index"]

    def __str__(self) -> str:
        return f"chunk {self.index} of {self.attachment_id}"
