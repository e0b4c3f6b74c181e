"""Mail brought into the record: the addresses of the process's parties, each import as one
unit that can be undone for a day, and the index that recognises a message already imported.

No address, subject or Message-ID is stored in clear. Addresses are sealed under `record`; to
find them without opening every row, each also carries a keyed hash under the process's mail
key (`MailKey`, itself sealed under `record`), so the database alone tells nobody whose address
it is, and a rotation of `record` re-seals the key without changing a hash. The index holds
keyed hashes of each message's Message-ID and of its content, so a message is recognised
whether it came from an upload or from IMAP, from one member's mailbox or another's.
"""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedBinaryField, EncryptedTextField


class MailKey(Chained, models.Model):
    """The process's secret for keyed hashes of addresses and messages, under `record`."""

    process = models.OneToOneField(
        "processes.Process", on_delete=models.CASCADE, related_name="mail_key"
    )
    key = EncryptedBinaryField(scope="record")

    def __str__(self) -> str:
        return f"mail key of {self.process_id}"

    def audit_name(self) -> str:
        return str(_("the key that recognises mail"))

    audit_name_locked = audit_name


class Party(models.TextChoices):
    X = "x", _("X")
    AROUND = "around", _("someone around X")
    MEMBER = "member", _("a member of the group")
    GROUP = "group", _("the group's shared address")


class Address(Chained, models.Model):
    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="mail_addresses"
    )
    party = models.CharField(max_length=8, choices=Party.choices)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    address = EncryptedTextField(scope="record")
    digest = models.CharField(max_length=64)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "digest"], name="one_address_per_process")
        ]
        ordering = ["party", "added_at", "pk"]

    def __str__(self) -> str:
        return f"address {self.pk} of {self.process_id}"

    def audit_name(self) -> str:
        return _("the email address %(address)s") % {"address": self.address}

    def audit_name_locked(self) -> str:
        return str(_("an email address"))


class Source(models.TextChoices):
    UPLOAD = "upload", _("uploaded file")
    COMMAND = "command", _("the command line")
    IMAP = "imap", _("fetched over IMAP")


class ImportState(models.TextChoices):
    PREVIEW = "preview", _("waiting to be confirmed")
    IMPORTED = "imported", _("imported")
    UNDONE = "undone", _("undone")


class MailImport(Chained, models.Model):
    """One import: shown as a summary first, then written all at once, or not at all."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="mail_imports"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    state = models.CharField(max_length=8, choices=ImportState.choices)
    # How many messages were new, already present, unmatched and unreadable; and imported.
    counts = models.JSONField(default=dict)
    # The uploaded files, sealed under `record` until the import is confirmed or dropped.
    files = models.JSONField(default=list)
    files_digest = models.CharField(max_length=64, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    imported_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"mail import {self.pk} of {self.process_id}"

    @classmethod
    def chained_rows(cls, process_id: int) -> models.QuerySet:
        # A preview is the member's own until confirmed; it enters the chain when imported.
        return cls._default_manager.filter(process_id=process_id).exclude(state=ImportState.PREVIEW)

    def audit_name(self) -> str:
        return _("the mail import of %(day)s") % {
            "day": formats.date_format(timezone.localtime(self.created_at), "DATE_FORMAT")
        }

    audit_name_locked = audit_name


class ImportedMessage(Chained, models.Model):
    """A message in the log: keyed hashes that recognise it the next time it comes."""

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(MailImport, on_delete=models.PROTECT, related_name="messages")
    entry = models.OneToOneField(
        "record.Entry", on_delete=models.CASCADE, related_name="mail_message"
    )
    message_id = models.CharField(max_length=64, blank=True)
    content = models.CharField(max_length=64)
    thread = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["process", "content"]),
            models.Index(fields=["process", "thread"]),
        ]

    def __str__(self) -> str:
        return f"imported message {self.pk}"

    audit_related = ("entry",)

    def audit_name(self) -> str:
        return _("the email behind the log entry of %(day)s") % {
            "day": formats.date_format(self.entry.occurred_on, "DATE_FORMAT")
        }

    audit_name_locked = audit_name


class ItemStatus(models.TextChoices):
    NEW = "new", _("new")
    PRESENT = "present", _("already in the log")
    UNMATCHED = "unmatched", _("matches no party")
    UNREADABLE = "unreadable", _("unreadable")


class PreviewItem(models.Model):
    """One message of a preview, as the member sees it before confirming. Not the record: the
    import reads the files again and trusts none of these rows but the member's choices,
    which are sealed (a database writer cannot make a skipped message count)."""

    batch = models.ForeignKey(MailImport, on_delete=models.CASCADE, related_name="items")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ItemStatus.choices)
    occurred_on = models.DateField(null=True, blank=True)
    present = models.ForeignKey(
        "record.Entry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the member reads to decide: date, sender and subject, or why it is unreadable.
    label = EncryptedTextField(scope="record")
    # For an unmatched message: the member's choice, "" (not chosen: skipped) or a direction,
    # with the person around X ("from_circle:12").
    choice = EncryptedTextField(scope="record")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="one_item_per_message")
        ]
        ordering = ["batch", "number"]

    def __str__(self) -> str:
        return f"message {self.number} of {self.batch_id}"


class Security(models.TextChoices):
    SSL = "ssl", _("encrypted from the start (SSL/TLS, usually port 993)")
    STARTTLS = "starttls", _("encrypted after connecting (STARTTLS, usually port 143)")
    NONE = "none", _("not encrypted (only for a server on this machine)")


class ImapAccount(Chained, models.Model):
    """A mailbox the group may fetch from: every detail sealed under `record`, so a fetch runs
    only while a member of the group is logged in, from the Mail page."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="imap_accounts"
    )
    host = EncryptedTextField(scope="record")
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=8, choices=Security.choices, default=Security.SSL)
    username = EncryptedTextField(scope="record")
    password = EncryptedTextField(scope="record")
    folder = EncryptedTextField(scope="record")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return f"mailbox {self.pk} of {self.process_id}"

    def audit_name(self) -> str:
        return _("the mailbox %(user)s at %(host)s") % {"user": self.username, "host": self.host}

    def audit_name_locked(self) -> str:
        return str(_("a mailbox"))
