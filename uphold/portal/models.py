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
    # X's MAC under the `respondent` key over (process, entry, kind, the text's SHA-256): a row
    # a database writer inserts, or a text swapped into `sealed`, carries none that holds, and
    # is refused when filed.
    mac = models.CharField(max_length=64)
    mac_generation = models.PositiveIntegerField()
    characters = models.PositiveIntegerField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    filed_at = models.DateTimeField(null=True, blank=True)
    # Set when it could not be filed because it is not what X sent (see `mac`); it stays, for
    # the audit log to show, and is not tried again.
    refused_at = models.DateTimeField(null=True, blank=True)

    audit_fixed = frozenset(
        {"process_id", "kind", "entry_id", "characters", "sent_at", "mac", "mac_generation"}
    )
    # The sealed copy is moved to the new inbox key when the record's keys are replaced, with
    # no event; what it holds is vouched for by `mac`, checked before it is filed.
    audit_skip = frozenset({"sealed"})

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["process", "filed_at", "refused_at"])]

    def __str__(self) -> str:
        return f"portal submission {self.pk} of {self.process}"

    def audit_name(self) -> str:
        return _("sent through the portal on %(day)s") % {
            "day": formats.date_format(timezone.localtime(self.sent_at), "DATE_FORMAT")
        }

    audit_name_locked = audit_name
