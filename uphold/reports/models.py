"""Reports: what each export was. The report itself is made afresh from the record each time
(render.py); every export leaves a row here, under the audit chain, so who took which report
out of Uphold, and when, is on the record."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField


class ReportKind(models.TextChoices):
    REPORT_BACK = "report-back", _("report-back to the community group")
    SURVIVOR_UPDATE = "survivor-update", _("update for the survivor's side")
    RETROSPECTIVE = "retrospective", _("retrospective")


class ReportFormat(models.TextChoices):
    HTML = "html", _("web page (HTML)")
    PDF = "pdf", _("PDF")
    MD = "md", _("text (Markdown)")


class ReportExport(Chained, models.Model):
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    format = models.CharField(max_length=4, choices=ReportFormat.choices)
    since = models.DateField(null=True, blank=True)  # the period a report-back covers
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    exported_at = models.DateTimeField(default=timezone.now)

    audit_fixed = frozenset({"process_id", "kind", "format", "since", "exported_at"})

    class Meta:
        ordering = ["-exported_at", "-pk"]
        indexes = [models.Index(fields=["process", "kind", "exported_at"])]

    def __str__(self) -> str:
        return f"{self.kind} export of {self.process}"

    def audit_name(self) -> str:
        return _("an export: %(kind)s, %(format)s") % {
            "kind": self.get_kind_display(),
            "format": self.get_format_display(),
        }

    audit_name_locked = audit_name


# Where a release goes: the report-back to the community group, the update to the survivor.
RELEASE_SCOPES = {ReportKind.REPORT_BACK: "community", ReportKind.SURVIVOR_UPDATE: "survivor"}


class ReleasedReport(Chained, models.Model):
    """A report as it read when a member released it, sealed under the scope of those it is
    for: a report-back under `community`, a survivor update under `survivor`. It never changes;
    a later release is a new row."""

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    scope = models.CharField(max_length=16)
    since = models.DateField(null=True, blank=True)
    text = EncryptedTextField(scope=lambda released: released.scope)  # the Markdown
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(default=timezone.now)

    audit_fixed = frozenset({"process_id", "kind", "scope", "since", "released_at"})

    class Meta:
        ordering = ["-released_at", "-pk"]
        indexes = [models.Index(fields=["process", "scope", "released_at"])]

    def __str__(self) -> str:
        return f"released {self.kind} of {self.process}"

    def audit_name(self) -> str:
        return _("released: %(kind)s") % {"kind": self.get_kind_display()}

    audit_name_locked = audit_name
