"""What X sends through his portal.

He holds no `record` key, so what he writes is sealed to the process inbox (DESIGN.md, "Process
inbox"): only a holder of the `record` key opens it. The log entry it makes is written at once
from clear columns (a message from X, through the portal, on that day), so contact health
counts his answer at once; its text is filed into the entry, sealed under `record`, when a
group member next opens the process, and the sealed copy is then emptied.
"""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained


class SubmissionKind(models.TextChoices):
    REFLECTION = "reflection", _("a reflection on what he did")
    UPDATE = "update", _("an update on the steps and demands")


class Submission(Chained, models.Model):
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=SubmissionKind.choices)
    entry = models.OneToOneField(
        "record.Entry", on_delete=models.PROTECT, related_name="submission"
    )
    # The text, sealed to the process inbox's public key (not a scope key: X holds none that
    # the group's record is under). Emptied once filed into the entry.
    sealed = models.BinaryField(blank=True)
    characters = models.PositiveIntegerField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    filed_at = models.DateTimeField(null=True, blank=True)

    audit_fixed = frozenset({"process_id", "kind", "entry_id", "characters", "sent_at"})

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["process", "filed_at"])]

    def __str__(self) -> str:
        return f"portal submission {self.pk} of {self.process}"

    def audit_name(self) -> str:
        return _("sent through the portal on %(day)s") % {
            "day": formats.date_format(timezone.localtime(self.sent_at), "DATE_FORMAT")
        }

    audit_name_locked = audit_name
