"""The audit chain: per process, an append-only list of events, each hashing the one before.

An event names what happened to which row and hashes that row's ciphertext, never a value in
clear, so the chain proves the record without any key and reveals nothing without one.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    DELETE = "delete", _("deleted")
    RELEASE = "release", _("released")
    EXPORT = "export", _("exported")
    LOGIN = "login", _("logged in")
    GRANT = "grant", _("gave access to")
    REVOKE = "revoke", _("took access away from")
    ROTATE = "rotate", _("replaced keys")
    PROPOSE = "propose", _("proposed")
    APPROVE = "approve", _("approved")
    REFUSE = "refuse", _("refused")
    SEND = "send", _("sent")


class AuditEvent(models.Model):
    process = models.ForeignKey(
        "processes.Process", on_delete=models.PROTECT, related_name="audit_events"
    )
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    actor_id_at_the_time = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    content_digest = models.CharField(max_length=64, blank=True)
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "seq"], name="one_event_per_seq")]
        ordering = ["process", "seq"]

    def __str__(self) -> str:
        return f"event {self.seq} of process {self.process_id}"


class Checkpoint(models.Model):
    """The chain head, with a MAC under the process's `record` key.

    Written whenever a member holding that key acts. Someone who can write to the database but
    holds no member's key cannot rewrite the chain and make a matching checkpoint.
    """

    process = models.OneToOneField(
        "processes.Process", on_delete=models.CASCADE, related_name="audit_checkpoint"
    )
    seq = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    key_generation = models.PositiveIntegerField()
    mac = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"checkpoint at event {self.seq} of process {self.process_id}"
