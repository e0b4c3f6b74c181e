"""Processes and who takes part in them, in which role."""

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField

from .roles import Role

# Nothing in a record happened before this: an earlier date is a typing error.
EARLIEST = date(2000, 1, 1)


class ProcessState(models.TextChoices):
    ACTIVE = "active", _("active")
    PAUSED = "paused", _("paused")
    CLOSED = "closed", _("closed")


code_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{2,39}$",
    _("Use 3 to 40 lower-case letters, digits or hyphens, starting with a letter."),
)


class Process(Chained, models.Model):
    """One accountability process. Its code name is in clear and must identify no one."""

    code = models.CharField(_("code name"), max_length=40, unique=True, validators=[code_validator])
    state = models.CharField(max_length=8, choices=ProcessState.choices, default="active")
    created_at = models.DateTimeField(default=timezone.now)
    # When the process itself began, for a group that comes to Uphold with a history behind it;
    # empty when it began the day it was started here.
    started_on = models.DateField(_("began on"), null=True, blank=True)
    # Demo and generated processes; the generator refuses to run beside real ones.
    is_sample = models.BooleanField(default=False)
    title = EncryptedTextField(_("title"), scope="record")
    # What this process calls the person harmed and the person who did harm; every role reads
    # the demands, so the words are in the `shared` scope.
    survivor_term = EncryptedTextField(_("word for the person harmed"), scope="shared")
    respondent_term = EncryptedTextField(_("word for the person who did harm"), scope="shared")
    meeting_every_months = models.PositiveSmallIntegerField(
        _("meet every (months)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    reply_reminder_days = models.PositiveSmallIntegerField(
        _("remind after no reply for (days)"),
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    step_overdue_days = models.PositiveSmallIntegerField(
        _("remind when a step is overdue by (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # X's portal (uphold/portal/): open unless a group closes it. Closed, X is told so, and
    # nothing he sends is taken.
    portal_open = models.BooleanField(_("X's portal is open"), default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def audit_name(self) -> str:
        return str(_("the process"))

    @property
    def began_on(self) -> date:
        return self.started_on or timezone.localdate(self.created_at)

    audit_name_locked = audit_name

    @property
    def crypto_process_id(self) -> int:
        return self.pk

    @classmethod
    def chained_rows(cls, process_id: int) -> models.QuerySet:
        return cls._default_manager.filter(pk=process_id)


class Membership(Chained, models.Model):
    # Who may hold which key follows the role, and no service changes a role: a member in
    # another role leaves and is invited again. So a role changed in the database, even with an
    # event forged onto the end of the chain, shows in `uphold verify` and receives no key.
    audit_fixed = frozenset({"process_id", "user_id", "role"})

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    # A survivor may choose to read the whole record; by default they are spared it.
    survivor_full_access = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "user"], name="one_role_per_process"),
            models.CheckConstraint(
                condition=models.Q(survivor_full_access=False) | models.Q(role="survivor"),
                name="full_access_only_for_survivor",
            ),
        ]
        ordering = ["role", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.process} as {self.role}"

    audit_related = ("user",)

    def audit_name(self) -> str:
        return _("membership of %(name)s (%(role)s)") % {
            "name": self.user.username,
            "role": self.get_role_display(),
        }

    audit_name_locked = audit_name


class GroupKind(models.TextChoices):
    SUPPORT = "support", _("support group")
    CONTACT = "contact", _("contact group")
    COMMUNITY = "community", _("community group")
    OTHER = "other", _("other group")


class ProcessGroup(Chained, models.Model):
    """A group taking part and where it is: the report's were in Berlin, Birmingham, Glasgow."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="groups")
    kind = models.CharField(_("group"), max_length=16, choices=GroupKind.choices)
    place = EncryptedTextField(_("where it is"), scope="record")
    time_zone = models.CharField(_("time zone"), max_length=64)

    class Meta:
        ordering = ["process", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} group of {self.process}"

    def audit_name(self) -> str:
        return _("the %(group)s") % {"group": self.get_kind_display()}

    audit_name_locked = audit_name
