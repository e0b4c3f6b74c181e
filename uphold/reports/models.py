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


# The group's own words in each kind of report: (part, what it is called on the form). A
# report-back and an update carry a word from the group beside the figures; a retrospective
# is mostly the group's words, around its figures, in the shape of the seed report.
DRAFT_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    ReportKind.REPORT_BACK: (("summary", _("What the contact group wants to say")),),
    ReportKind.SURVIVOR_UPDATE: (("words", _("A word from the group")),),
    ReportKind.RETROSPECTIVE: (
        ("formation", _("How the group formed")),
        ("surroundings", _("The role of the people around him")),
        ("reflections", _("Reflections")),
        ("lessons", _("Lessons")),
        # Not printed: names the retrospective leaves out wherever they appear, beside those
        # the process holds (the people around him, the words chosen, the groups' places).
        ("left_out", _("Other names to leave out, one per line")),
    ),
}


class ReportDraft(Chained, models.Model):
    """The group's own words for one part of a kind of report, sealed under `record`: only the
    support and contact groups read a draft. It goes to others only inside a release, which is
    sealed again under their scope. A change against an older revision is a conflict."""

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    part = models.CharField(max_length=16)
    text = EncryptedTextField(scope="record")
    revision = models.PositiveIntegerField(default=1)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    audit_fixed = frozenset({"process_id", "kind", "part"})

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "kind", "part"], name="one_draft_per_part")
        ]

    def __str__(self) -> str:
        return f"{self.kind} draft ({self.part}) of {self.process}"

    def audit_name(self) -> str:
        return _("the group's words in a report: %(kind)s") % {"kind": self.get_kind_display()}

    audit_name_locked = audit_name
