"""The programme directory and each process's referral to a programme.

The directory (Programme, with every earlier wording as a ProgrammeVersion) is shared by every
process of the server and holds only public facts about perpetrator programmes, in clear: it
belongs to no process, so it is under no process's key and no process's audit chain; its
history is its own append-only version table.

A Referral belongs to one process and is part of its record: which programme was considered,
who researched it (X, as the demand asks, or the group), its status with every change dated
(ReferralChange), and whether the survivor's contact route was passed on. Statuses, dates and
who researched it are clear columns, so the figures need no key; a programme's name outside
the directory and X's stated reasons are under `record`.
"""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField


class Kind(models.TextChoices):
    GROUP = "group", _("group")
    ONE_TO_ONE = "one_to_one", _("one-to-one")
    ONLINE = "online", _("online")


class Programme(models.Model):
    """One perpetrator programme: public facts only, never anything about a case.

    In clear on purpose: the directory belongs to the server, not to a process, so no
    process's key could seal it, and every group on the server reads it. The forms say not to
    write anything about a case here (docs/security.md, "What is in clear, on purpose")."""

    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(_("region"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    contact = models.CharField(_("contact"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    hears_survivor = models.BooleanField(_("can hear the survivor's side"), default=False)
    # Each language folded, between bars ("|german|english|"), for the filter: the JSON text
    # escapes letters beyond ASCII, so it cannot be searched for them.
    language_key = models.CharField(max_length=300, blank=True, default="")
    # Name and region folded (case, spaces): two rows with the same are one programme twice.
    match_key = models.CharField(max_length=310, unique=True)
    # Raised by each edit; an edit made against an older revision is a conflict.
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "region", "pk"]
        indexes = [models.Index(fields=["kind", "name"]), models.Index(fields=["region"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.region})" if self.region else self.name

    @property
    def languages_text(self) -> str:
        return ", ".join(self.languages)


class ProgrammeVersion(models.Model):
    """A directory row as it was before an edit, who replaced it and when; never changed."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="versions")
    revision = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    languages = models.JSONField(default=list, blank=True)
    contact = models.CharField(max_length=300, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    hears_survivor = models.BooleanField(default=False)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    written_at = models.DateTimeField()
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "revision"], name="one_programme_version")
        ]
        ordering = ["programme", "-revision"]

    def __str__(self) -> str:
        return f"version {self.revision} of {self.programme}"

    @property
    def languages_text(self) -> str:
        return ", ".join(self.languages)


class ResearchedBy(models.TextChoices):
    X = "x", _("X himself")
    GROUP = "group", _("the group")


class Status(models.TextChoices):
    RESEARCHING = "researching", _("researching")
    CONTACTED = "contacted", _("contacted")
    INITIAL_CONTACT = "initial_contact", _("initial contact")
    AGREED_SUITABLE = "agreed_suitable", _("agreed suitable")
    ENROLLED = "enrolled", _("enrolled")
    ATTENDING = "attending", _("attending")
    COMPLETED = "completed", _("completed")
    DROPPED = "dropped", _("dropped")
    REFUSED = "refused", _("refused")


# At these, X's stated reasons are written down: what he gave as his reason is the record.
NEEDS_REASONS = frozenset({Status.DROPPED, Status.REFUSED})


def _day(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


class Referral(Chained, models.Model):
    """One programme considered for X in a process."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="referrals"
    )
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    # A programme not in the directory: its name stays in the group's record.
    other_name = EncryptedTextField(_("programme not in the directory"), scope="record")
    researched_by = models.CharField(
        _("who researched it"), max_length=8, choices=ResearchedBy.choices
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    status_on = models.DateField()
    contact_route_passed = models.BooleanField(default=False)
    contact_route_passed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-status_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact_route_passed=False)
                | models.Q(contact_route_passed_on__isnull=False),
                name="contact_route_passed_has_a_day",
            )
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} of {self.process}"

    audit_related = ("programme",)

    @property
    def name(self) -> str:
        return self.programme.name if self.programme_id else self.other_name

    def audit_name(self) -> str:
        return _("referral to %(name)s") % {"name": self.name}

    def audit_name_locked(self) -> str:
        if self.programme_id:
            return self.audit_name()
        return _("referral of %(day)s") % {"day": _day(timezone.localtime(self.created_at))}


class ReferralChange(Chained, models.Model):
    """A referral's status as of a day, with X's stated reasons; never changed or deleted. The
    first one is the status the referral was recorded with (no status before it)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="changes")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    status_before = models.CharField(max_length=16, choices=Status.choices, blank=True)
    status_after = models.CharField(max_length=16, choices=Status.choices)
    on = models.DateField()
    # This change recorded that the survivor's contact route was passed to the programme.
    passed_contact_route = models.BooleanField(default=False)
    reasons = EncryptedTextField(_("X's stated reasons"), scope="record")
    note = EncryptedTextField(_("note"), scope="record")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"change of {self.referral}"

    audit_related = ("referral", "referral__programme")

    def audit_name(self) -> str:
        return _("change of the referral to %(name)s") % {"name": self.referral.name}

    def audit_name_locked(self) -> str:
        return _("change of a referral on %(day)s") % {"day": _day(self.on)}
