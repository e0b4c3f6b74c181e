"""The survivor's side's own page: how they want to hear about the process.

The choices that the reminders and notices act on (how often, through whom, how much to take
part, a content note) are codes in clear, so the worker, which holds no key, follows them.
What the survivor does not want to hear about, and what must be kept from whom, are their own
words, sealed under `survivor`: the survivor, the support group and the contact group read
them, nobody else.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField
from uphold.processes.models import Role


class Rhythm(models.TextChoices):
    NEVER = "never", _("never")
    MONTHLY = "monthly", _("once a month")
    QUARTERLY = "quarterly", _("every three months")
    ON_REQUEST = "on_request", _("only when I ask")


# Days after the last update before the next one is due.
RHYTHM_DAYS = {Rhythm.MONTHLY: 30, Rhythm.QUARTERLY: 91}


class Through(models.TextChoices):
    DIRECTLY = "directly", _("to me directly")
    SUPPORT = "support", _("only through my support group")


class TakingPart(models.TextChoices):
    NOTHING = "nothing", _("tell me nothing about decisions")
    OUTCOMES = "outcomes", _("tell me what was decided")
    BIG = "big", _("ask me before big decisions")
    EVERY = "every", _("ask me before every step")


class Preferences(Chained, models.Model):
    """One row per process, made at the first save; until then the defaults below hold."""

    process = models.OneToOneField(
        "processes.Process", on_delete=models.CASCADE, related_name="survivor_preferences"
    )
    rhythm = models.CharField(max_length=12, choices=Rhythm.choices, default=Rhythm.ON_REQUEST)
    through = models.CharField(max_length=12, choices=Through.choices, default=Through.DIRECTLY)
    taking_part = models.CharField(
        max_length=12, choices=TakingPart.choices, default=TakingPart.BIG
    )
    content_note = models.BooleanField(default=True)
    avoid = EncryptedTextField(scope="survivor")  # what they do not want to hear about
    revision = models.PositiveIntegerField(default=1)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    audit_fixed = frozenset({"process_id"})

    def __str__(self) -> str:
        return f"survivor's preferences in {self.process}"

    def audit_name(self) -> str:
        return str(_("the survivor's preferences"))

    audit_name_locked = audit_name


class Withholding(Chained, models.Model):
    """Something the survivor's side wants kept from a role, or from a person: shown to the
    groups wherever they pass something on, and asked about before each release."""

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    what = EncryptedTextField(scope="survivor")
    # A role, or "" when it is kept from a person named in `from_whom`.
    from_role = models.CharField(max_length=16, blank=True, choices=Role.choices)
    from_whom = EncryptedTextField(scope="survivor")  # a person, in the survivor side's words
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    audit_fixed = frozenset({"process_id", "from_role", "created_at"})

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"withholding {self.pk} in {self.process}"

    def audit_name(self) -> str:
        return str(_("something kept from someone, by the survivor's wish"))

    audit_name_locked = audit_name


class RequestState(models.TextChoices):
    OPEN = "open", _("waiting for the contact group")
    RELEASED = "released", _("released to the survivor's side")
    DECLINED = "declined", _("not released")


class ItemRequest(Chained, models.Model):
    """The survivor's side asks for one item of the record they do not read (a message of his,
    the minutes of a meeting); a contact member releases it, or says why not."""

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    what = EncryptedTextField(scope="survivor")
    state = models.CharField(max_length=8, choices=RequestState.choices, default=RequestState.OPEN)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    answer = EncryptedTextField(scope="survivor")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    audit_fixed = frozenset({"process_id", "asked_at"})

    class Meta:
        ordering = ["-asked_at", "-pk"]

    def __str__(self) -> str:
        return f"request {self.pk} in {self.process}"

    def audit_name(self) -> str:
        return str(_("a request of the survivor's side for an item"))

    audit_name_locked = audit_name


class ReleasedItem(Chained, models.Model):
    """A copy of one log entry, or of a meeting's minutes, sealed again under `survivor`
    because the survivor's side asked for it. The record's own row stays as it is."""

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    request = models.OneToOneField(ItemRequest, on_delete=models.PROTECT, related_name="released")
    entry = models.ForeignKey(
        "record.Entry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    meeting = models.ForeignKey(
        "record.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_on = models.DateField()
    text = EncryptedTextField(scope="survivor")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(default=timezone.now)

    audit_fixed = frozenset(
        {"process_id", "request_id", "entry_id", "meeting_id", "occurred_on", "released_at"}
    )

    class Meta:
        ordering = ["-released_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(entry__isnull=True) ^ models.Q(meeting__isnull=True),
                name="released_item_is_an_entry_or_minutes",
            )
        ]

    def __str__(self) -> str:
        return f"released item {self.pk} in {self.process}"

    def audit_name(self) -> str:
        return str(_("an item released to the survivor's side"))

    audit_name_locked = audit_name
