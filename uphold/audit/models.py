"""The audit chain: per process, an append-only list of events, each hashing the one before.

An event names what happened to which row and holds a digest of each of that row's columns as
stored (ciphertexts as they are, clear columns such as dates, statuses and owners, and its links
to other rows), never a value in clear. So the chain proves the record without any key, a
column changed outside Uphold is found and named, and an event reveals nothing without a key.
"""

from typing import ClassVar

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


class Chained:
    """A model whose rows are the objects of audit events: every column is under the chain.

    `audit_skip` names columns that change without an event, for reasons of their own (a MAC
    that is checked where it is used); everything else a later change outside Uphold shows up
    in `uphold verify`. Every row `chained_rows` returns must be named by the chain, so a row
    inserted behind Uphold's back is found too.
    """

    audit_skip: ClassVar[frozenset[str]] = frozenset()
    # Columns no part of Uphold changes once the row is written: every event about the row must
    # hold the same value for them, so an event appended to the chain cannot change them either.
    audit_fixed: ClassVar[frozenset[str]] = frozenset()
    # Rows the name on the audit page reads, loaded with it (select_related).
    audit_related: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def chained_rows(cls, process_id: int) -> models.QuerySet:
        return cls._default_manager.filter(process_id=process_id)

    def audit_name(self) -> str:
        """What the audit page calls this row, in words a member understands; it may read
        encrypted fields with the member's keys."""
        return str(self._meta.verbose_name)

    def audit_name_locked(self) -> str:
        """The name from clear columns only, when the member's keys do not open the rest."""
        return str(self._meta.verbose_name)


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
    # Column name -> digest of its stored value; `content_digest` is the digest of this map, so
    # the map is under the chain. Empty in events written before every column was covered.
    columns = models.JSONField(default=dict, blank=True)
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
