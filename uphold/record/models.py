"""The record the contact group keeps: the log, meetings, agreed steps, confirmations to X,
and the reminders worked out from them.

Dates, kinds, directions, tags, statuses and counts are in clear, so contact health and the
reminders need no key. What was said, who was there and where are encrypted: the log, the
minutes and the group's own steps in the `record` scope; what X may read (the steps he owns,
where the next meeting is, the confirmations sent to him) in the `respondent` scope.
"""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField
from uphold.lib.choices import label


def _day(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def _short(text: str, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EntryKind(models.TextChoices):
    MESSAGE = "message", _("message")
    MEETING_HELD = "meeting_held", _("meeting held")
    MEETING_MISSED = "meeting_missed", _("meeting missed")
    CONVERSATION = "conversation", _("talk with someone around X")
    DECISION = "decision", _("group decision")
    NOTE = "note", _("note")


class Channel(models.TextChoices):
    EMAIL = "email", _("email")
    LETTER = "letter", _("letter")
    PHONE = "phone", _("phone")
    IN_PERSON = "in_person", _("in person")
    MESSENGER = "messenger", _("messenger")
    PORTAL = "portal", _("Uphold portal")


class Direction(models.TextChoices):
    TO_X = "to_x", _("group → X")
    FROM_X = "from_x", _("X → group")
    TO_CIRCLE = "to_circle", _("group → someone around X")
    FROM_CIRCLE = "from_circle", _("someone around X → group")
    NONE = "none", _("within the group")


class Tag(models.TextChoices):
    NO_REPLY = "no_reply", _("no reply")
    AGREEMENT = "agreement", _("agreement")
    RENEGOTIATION = "renegotiation", _("renegotiation")
    RESPONSIBILITY_SHIFTING = "shifting", _("responsibility-shifting")
    SELF_VICTIMISATION = "self_victimisation", _("self-victimisation")
    DENIAL = "denial", _("denial")
    MINIMISING = "minimising", _("minimising")
    VICTIM_BLAMING = "victim_blaming", _("victim-blaming")
    DISCREDITING = "discrediting", _("discrediting people")
    LEGITIMACY = "legitimacy", _("questioning the legitimacy of the process")
    COUNTER_ACCUSING = "counter_accusing", _("counter-accusing")


class Entry(Chained, models.Model):
    """One dated thing that happened. Editing keeps the earlier text as an EntryVersion."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="entries"
    )
    occurred_on = models.DateField(_("when it happened"))
    kind = models.CharField(_("what"), max_length=16, choices=EntryKind.choices)
    channel = models.CharField(_("how"), max_length=12, choices=Channel.choices, blank=True)
    direction = models.CharField(
        _("direction"), max_length=12, choices=Direction.choices, default=Direction.NONE
    )
    # Who from the group wrote, spoke or took part.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = EncryptedTextField(_("in short"), scope="record")
    text = EncryptedTextField(_("the message or notes in full"), scope="record")
    # What was noted of people as free text before people and circles were listed (`around`).
    people = EncryptedTextField(_("people involved"), scope="record")
    tags = models.JSONField(default=list, blank=True)
    demands = models.ManyToManyField("demands.Demand", blank=True, related_name="entries")
    # The people and circles around X the entry is about.
    around = models.ManyToManyField("people.Person", blank=True, related_name="entries")
    attachments = models.ManyToManyField("attachments.Attachment", blank=True, related_name="+")
    # Raised by each edit; an edit made against an older revision is a conflict.
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        indexes = [models.Index(fields=["process", "occurred_on"])]

    def __str__(self) -> str:
        return f"entry {self.pk} of {self.process}"

    @property
    def edits(self) -> int:
        """Each edit keeps the entry as it was (EntryVersion) and raises the revision by one."""
        return self.revision - 1

    @property
    def tag_labels(self) -> list[str]:
        return [label(Tag, t) for t in self.tags if t in Tag.values]

    def audit_name(self) -> str:
        return _("log entry of %(day)s") % {"day": _day(self.occurred_on)}

    audit_name_locked = audit_name


class HealthState(models.Model):
    """Contact health folded from the log (record.health.Tally), kept current as entries are
    written so a page reads one row. Derived from chained columns only: `uphold verify` folds
    the log afresh and names a difference."""

    process = models.OneToOneField(
        "processes.Process", on_delete=models.CASCADE, related_name="health_state"
    )
    tally = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"contact health of {self.process_id}"


class EntryVersion(Chained, models.Model):
    """An entry as it was before an edit; never changed or deleted."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="versions")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField()
    occurred_on = models.DateField()
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    direction = models.CharField(max_length=12, choices=Direction.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = EncryptedTextField(scope="record")
    text = EncryptedTextField(scope="record")
    people = EncryptedTextField(scope="record")
    tags = models.JSONField(default=list)
    demand_numbers = models.JSONField(default=list)
    around_ids = models.JSONField(default=list)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_at = models.DateTimeField(default=timezone.now)
    why = EncryptedTextField(scope="record")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "revision"], name="one_entry_version")
        ]
        ordering = ["entry", "-revision"]

    def __str__(self) -> str:
        return f"version {self.revision} of {self.entry}"

    audit_related = ("entry",)

    def audit_name(self) -> str:
        return _("earlier wording of the log entry of %(day)s") % {
            "day": _day(self.entry.occurred_on)
        }

    audit_name_locked = audit_name


class Outcome(models.TextChoices):
    HELD = "held", _("held")
    NO_SHOW = "no_show", _("X did not come")
    CANCELLED = "cancelled", _("cancelled")
    POSTPONED = "postponed", _("postponed")


def meeting_place_scope(meeting: "Meeting") -> str:
    return "respondent" if meeting.x_expected else "record"


class Meeting(Chained, models.Model):
    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="meetings"
    )
    planned_at = models.DateTimeField(_("date and time"))
    # Where, or the link for an online meeting: in X's scope when he is expected, else the
    # group's own record (he must not learn where the group meets without him).
    place = EncryptedTextField(_("place or online link"), scope=meeting_place_scope)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("who goes")
    )
    x_expected = models.BooleanField(_("X is expected"), default=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)
    minutes = EncryptedTextField(_("minutes"), scope="record")
    # The log entry written when the outcome was recorded.
    entry = models.OneToOneField(
        Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="meeting"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-planned_at", "-pk"]

    def __str__(self) -> str:
        return f"meeting {self.pk} of {self.process}"

    def audit_name(self) -> str:
        return _("meeting of %(day)s") % {"day": _day(timezone.localtime(self.planned_at))}

    audit_name_locked = audit_name


class Owner(models.TextChoices):
    X = "x", _("X")
    GROUP = "group", _("the group")


class StepStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    MISSED = "missed", _("missed")
    DROPPED = "dropped", _("dropped")


class Step(Chained, models.Model):
    """An agreed, concrete action with an owner and a due date.

    What a step asks is in X's scope while X owns it and in the record while the group does;
    `what` reads whichever holds it.
    """

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="steps")
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    demand = models.ForeignKey(
        "demands.Demand", null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    owner = models.CharField(_("who does it"), max_length=8, choices=Owner.choices)
    what_x = EncryptedTextField(scope="respondent")
    what_group = EncryptedTextField(scope="record")
    # When it was agreed: the day of its meeting, or the day it was written down.
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    due_on = models.DateField(_("due on"))
    status = models.CharField(max_length=8, choices=StepStatus.choices, default=StepStatus.OPEN)
    evidence = EncryptedTextField(_("evidence"), scope="record")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return f"step {self.pk} of {self.process}"

    @property
    def what(self) -> str:
        return self.what_x if self.owner == Owner.X else self.what_group

    def audit_name(self) -> str:
        return _("step: %(what)s") % {"what": _short(self.what)}

    def audit_name_locked(self) -> str:
        return _("step due %(day)s") % {"day": _day(self.due_on)}


class StepChange(Chained, models.Model):
    """Every change of a step's owner or status, with the reason; never changed or deleted."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="changes")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    owner_before = models.CharField(max_length=8, choices=Owner.choices)
    owner_after = models.CharField(max_length=8, choices=Owner.choices)
    status_before = models.CharField(max_length=8, choices=StepStatus.choices)
    status_after = models.CharField(max_length=8, choices=StepStatus.choices)
    reason = EncryptedTextField(scope="record")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"change of {self.step}"

    audit_related = ("step",)

    def audit_name(self) -> str:
        return _("change of the step: %(what)s") % {"what": _short(self.step.what)}

    def audit_name_locked(self) -> str:
        return _("change of the step due %(day)s") % {"day": _day(self.step.due_on)}


class SendState(models.TextChoices):
    DRAFT = "draft", _("not sent yet")
    SENDING = "sending", _("being sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("not sent: sending failed")


class Confirmation(Chained, models.Model):
    """The written confirmation of a meeting sent to X: exactly what, when, where, and its hash.

    While it is a draft its text is the group's (`draft_*`, in the record); only what was sent
    is copied into X's scope, at the moment the mail server accepts it.
    """

    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="confirmation")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    to_address = EncryptedTextField(_("X's email address"), scope="respondent")
    subject = EncryptedTextField(_("subject"), scope="respondent")
    body = EncryptedTextField(_("text"), scope="respondent")
    draft_to_address = EncryptedTextField(_("X's email address"), scope="record")
    draft_subject = EncryptedTextField(_("subject"), scope="record")
    draft_body = EncryptedTextField(_("text"), scope="record")
    state = models.CharField(max_length=8, choices=SendState.choices, default=SendState.DRAFT)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    # SHA-256 of the message exactly as handed to the mail server.
    sha256 = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"confirmation of {self.meeting}"

    audit_related = ("meeting",)

    def audit_name(self) -> str:
        return _("confirmation of the meeting of %(day)s") % {
            "day": _day(timezone.localtime(self.meeting.planned_at))
        }

    audit_name_locked = audit_name


class ReminderKind(models.TextChoices):
    SILENCE = "silence", _("no reply from X")
    STEP_OVERDUE = "step_overdue", _("a step is overdue")
    MEETING_SOON = "meeting_soon", _("a meeting is coming up")
    NO_OUTCOME = "no_outcome", _("a meeting has no outcome recorded")
    QUIET = "quiet", _("nothing logged for a month")
    # At the rhythm the survivor's side chose (uphold/survivor/); for both groups.
    SURVIVOR_UPDATE = "update_due", _("an update for the survivor's side is due")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENDING = "sending", _("being sent")
    SENT = "sent", _("sent")


class Reminder(models.Model):
    """One reminder for the contact group, made once per occasion (its `key`) and delivered by
    whichever worker claims it first. Its text is built from clear fields only."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # What makes this occasion unique, e.g. "step:12" or "silence:2026-03-01".
    key = models.CharField(max_length=80)
    # The number the text gives: days of silence, days overdue, days until the meeting.
    days = models.IntegerField(default=0)
    on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    claimed_by = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "key"], name="one_reminder_per_occasion")
        ]
        indexes = [models.Index(fields=["state", "lease_until"])]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"reminder {self.key} of {self.process}"

    @property
    def text(self) -> str:
        from .reminders import text_of

        return text_of(self)[0]


class CalendarFeed(Chained, models.Model):
    """A member's calendar link. Only a hash of its secret is stored.

    With `with_place`, the link's secret is also the key to a copy of each meeting's place: the
    feed has a key pair whose private half is encrypted under a key derived from the secret, and
    members who plan a meeting seal its place to the public half (see calendar.py).
    """

    membership = models.ForeignKey(
        "processes.Membership", on_delete=models.CASCADE, related_name="feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    with_place = models.BooleanField(default=False)
    public_key = models.BinaryField(null=True, blank=True)
    sealed_private = models.BinaryField(null=True, blank=True)
    # A MAC under the process's `record` key (of `attested_generation`) over the feed, its
    # member and its public key: a feed row or public key written into the database by anyone
    # without that key receives no place.
    attestation = models.CharField(max_length=64, blank=True, default="")
    attested_generation = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # Re-attested under each new `record` key without an event; checked where it is used.
    audit_skip = frozenset({"attestation", "attested_generation"})

    def __str__(self) -> str:
        return f"calendar feed of {self.membership}"

    audit_related = ("membership__user",)

    def audit_name(self) -> str:
        return _("calendar link of %(name)s") % {"name": self.membership.user.username}

    audit_name_locked = audit_name

    @classmethod
    def chained_rows(cls, process_id: int) -> models.QuerySet:
        return cls._default_manager.filter(membership__process_id=process_id)


class FeedPlace(models.Model):
    """A meeting's place sealed to one feed's public key; opened only with the link's secret."""

    feed = models.ForeignKey(CalendarFeed, on_delete=models.CASCADE, related_name="places")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    sealed = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feed", "meeting"], name="one_place_per_feed")
        ]

    def __str__(self) -> str:
        return f"place of {self.meeting} for {self.feed}"
