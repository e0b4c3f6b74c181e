"""The open letter and its demands, every version of them, and the proposals to change them.

The current text of a demand is in the `shared` scope: every role reads what is demanded. Its
history, the proposals and the progress notes are for the survivor's side and the group
(`survivor` scope); what X said about a demand is raw record (`record` scope).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField


class Status(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "progress", _("in progress")
    MET = "met", _("met")
    REFUSED = "refused", _("refused by X")
    WITHDRAWN = "withdrawn", _("withdrawn by the survivor's side")


class Letter(Chained, models.Model):
    """The current wording, and when and to whom it was last handed over. Every wording it has
    had is a LetterVersion."""

    process = models.OneToOneField(
        "processes.Process", on_delete=models.CASCADE, related_name="letter"
    )
    # Raised by every saved wording; a save against an older revision is a conflict.
    revision = models.PositiveIntegerField(default=1)
    text = EncryptedTextField(_("text of the letter"), scope="shared")
    handed_over_on = models.DateField(_("handed over on"), null=True, blank=True)
    handed_to = EncryptedTextField(_("handed over to"), scope="shared")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"letter of {self.process}"

    def audit_name(self) -> str:
        return str(_("the letter"))

    audit_name_locked = audit_name


class LetterVersion(Chained, models.Model):
    """Every wording the letter has had, with who saved it and when; a version marked as sent
    stays marked whatever is saved after it. Never deleted."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="versions")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField()
    text = EncryptedTextField(scope="shared")
    # Set when this wording is marked as the one handed over to X.
    sent = models.BooleanField(default=False)
    handed_over_on = models.DateField(null=True, blank=True)
    handed_to = EncryptedTextField(scope="shared")
    # A letter written before versions were kept became version 1 in a migration, which holds
    # no key: its text stays in the letter row (the same text while it is the current version)
    # until the next save or mark copies it in.
    carried_over = models.BooleanField(default=False)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "revision"], name="one_letter_version_per_revision"
            )
        ]
        ordering = ["letter", "revision"]

    def __str__(self) -> str:
        return f"version {self.revision} of {self.letter}"

    def audit_name(self) -> str:
        return _("wording %(rev)s of the letter") % {"rev": self.revision}

    audit_name_locked = audit_name

    def texts(self, letter: Letter) -> tuple[str, str]:
        """The wording and to whom it was handed (a carried-over version's are the letter's)."""
        if self.carried_over:
            return letter.text, letter.handed_to
        return self.text, self.handed_to


class Demand(Chained, models.Model):
    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="demands"
    )
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    # Raised by every applied change of wording, reasons or criteria; a change made against an
    # older revision is a conflict, never a silent overwrite.
    revision = models.PositiveIntegerField(default=1)
    wording = EncryptedTextField(_("wording"), scope="shared")
    reasons = EncryptedTextField(_("reasons"), scope="shared")
    criteria = EncryptedTextField(_("criteria: what counts as met"), scope="shared")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "number"], name="one_demand_per_number")
        ]
        ordering = ["process", "number"]

    def __str__(self) -> str:
        return f"demand {self.number} of {self.process}"

    def audit_name(self) -> str:
        return _("demand %(n)s") % {"n": self.number}

    audit_name_locked = audit_name


class DemandVersion(Chained, models.Model):
    """Every wording a demand has had; never changed or deleted."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="versions")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField()
    wording = EncryptedTextField(scope="survivor")
    reasons = EncryptedTextField(scope="survivor")
    criteria = EncryptedTextField(scope="survivor")
    why = EncryptedTextField(scope="survivor")
    proposal = models.OneToOneField(
        "ChangeProposal", null=True, blank=True, on_delete=models.PROTECT, related_name="version"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["demand", "revision"], name="one_version_per_revision")
        ]
        ordering = ["demand", "revision"]

    def __str__(self) -> str:
        return f"version {self.revision} of {self.demand}"

    audit_related = ("demand",)

    def audit_name(self) -> str:
        return _("wording %(rev)s of demand %(n)s") % {
            "rev": self.revision,
            "n": self.demand.number,
        }

    audit_name_locked = audit_name


class ProposalState(models.TextChoices):
    WAITING = "waiting", _("waiting for the survivor's side")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class ChangeProposal(Chained, models.Model):
    """A new wording, reasons or criteria, waiting for a survivor or support member's answer."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="proposals")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    base_revision = models.PositiveIntegerField()
    wording = EncryptedTextField(scope="survivor")
    reasons = EncryptedTextField(scope="survivor")
    criteria = EncryptedTextField(scope="survivor")
    why = EncryptedTextField(scope="survivor")
    # A softer demand is labelled for whoever answers: the proposer said so, or it drops
    # criteria. Worked out when proposed, kept in clear for the label and for counting.
    proposer_says_softer = models.BooleanField(default=False)
    drops_criteria = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(
        max_length=8, choices=ProposalState.choices, default=ProposalState.WAITING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    answer = EncryptedTextField(scope="survivor")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"proposal {self.pk} for {self.demand}"

    audit_related = ("demand",)

    def audit_name(self) -> str:
        return _("a change to demand %(n)s") % {"n": self.demand.number}

    audit_name_locked = audit_name

    @property
    def softens(self) -> bool:
        return self.proposer_says_softer or self.drops_criteria > 0


class Progress(Chained, models.Model):
    """Evidence recorded on a demand, with the status it moved from and to (maybe the same)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="progress")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    status_before = models.CharField(max_length=12, choices=Status.choices)
    status_after = models.CharField(max_length=12, choices=Status.choices)
    note = EncryptedTextField(scope="survivor")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"progress on {self.demand}"

    audit_related = ("demand",)

    def audit_name(self) -> str:
        return _("status of demand %(n)s: %(status)s") % {
            "n": self.demand.number,
            "status": self.get_status_after_display(),
        }

    audit_name_locked = audit_name


class AnswerKind(models.TextChoices):
    ACCEPTS = "accepts", _("accepts")
    RENEGOTIATE = "renegotiate", _("asks to renegotiate")
    REFUSES = "refuses", _("refuses")
    NO_ANSWER = "none", _("no answer")


class Answer(Chained, models.Model):
    """What X said about a demand, and when: counted in reports ("asked to renegotiate 3 times")."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="answers")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=AnswerKind.choices)
    said_on = models.DateField()
    note = EncryptedTextField(scope="record")
    # Where he said it, when it is in the log.
    entry = models.ForeignKey(
        "record.Entry", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-said_on", "-pk"]

    def __str__(self) -> str:
        return f"answer to {self.demand}"

    audit_related = ("demand",)

    def audit_name(self) -> str:
        return _("an answer to demand %(n)s") % {"n": self.demand.number}

    audit_name_locked = audit_name
