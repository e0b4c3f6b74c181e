"""X's portal: what he reads, what he sends, and how the group files what he sent.

- `portal_of(actor, code)`: his demands with their criteria, the steps he owns, the next
  meeting he is expected at, the confirmations sent to him, and the days he sent something.
  Nothing else: no member's name, no note, no person, no survivor's word, no audit.
- `send(actor, code, kind, text)`: sealed to the process inbox (only once a group member has
  vouched for its public key), a log entry from X at once, a notice to the contact group that
  carries no text.
- `file_waiting(actor, process)`: a group member's keys open what waits and seal it into the
  log entry under `record` (and, for a reflection, into a Reflection the contact group
  reviews); the inbox copy is then emptied. The pages the group opens first call it.
"""

import hashlib
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto import keyring
from uphold.crypto import services as crypto
from uphold.demands.models import Demand
from uphold.processes.models import Membership, Process
from uphold.processes.permissions import allowed, authorize
from uphold.record import health
from uphold.record.models import (
    Channel,
    Confirmation,
    Direction,
    Entry,
    EntryKind,
    Meeting,
    Owner,
    SendState,
    Step,
    StepStatus,
)
from uphold.reflections.models import Reflection, Source

from .models import Submission, SubmissionKind
from .tasks import notify_contact_group

MAX_TEXT = 200_000  # characters, as for a reflection the group pastes in
SUMMARY = 120  # characters of the first line that name the entry in the log
LISTED = 20  # closed steps, confirmations and sent items shown


class PortalClosed(PermissionDenied):
    """The group closed the portal of this process."""


@dataclass(frozen=True)
class Portal:
    membership: Membership
    demands: list[Demand]
    open_steps: list[Step]
    closed_steps: list[Step]
    meeting: Meeting | None
    confirmations: list[Confirmation]
    sent: list[Submission]


def _open_portal(actor: User, process: Process | str, action: str) -> Membership:
    membership = authorize(actor, action, process)
    if not membership.process.portal_open:
        raise PortalClosed(_("The group has closed this portal for now."))
    return membership


def portal_of(actor: User, process: Process | str) -> Portal:
    membership = _open_portal(actor, process, "portal.view")
    process = membership.process
    steps = Step.objects.filter(process=process, owner=Owner.X).only(
        "pk", "process", "owner", "what_x", "due_on", "status", "demand"
    )
    return Portal(
        membership=membership,
        demands=list(
            Demand.objects.filter(process=process)
            .only("pk", "process", "number", "status", "wording", "criteria")
            .order_by("number")
        ),
        open_steps=list(steps.filter(status=StepStatus.OPEN).order_by("due_on", "pk")[:100]),
        closed_steps=list(
            steps.exclude(status=StepStatus.OPEN).order_by("-due_on", "-pk")[:LISTED]
        ),
        meeting=Meeting.objects.filter(
            process=process, x_expected=True, outcome="", planned_at__gte=timezone.now()
        )
        .only("pk", "process", "planned_at", "x_expected", "place")
        .order_by("planned_at")
        .first(),
        confirmations=list(
            Confirmation.objects.filter(process=process, state=SendState.SENT)
            .only("pk", "process", "meeting", "sent_at", "subject", "body")
            .order_by("-sent_at", "-pk")[:LISTED]
        ),
        sent=list(
            Submission.objects.filter(process=process, sent_by=actor).only(
                "pk", "process", "kind", "sent_at", "characters"
            )[:LISTED]
        ),
    )


def clean(kind: str, text: str) -> str:
    errors = {}
    text = (text or "").replace("\r\n", "\n").strip()
    if kind not in SubmissionKind.values:
        errors["kind"] = [_("Choose what you are sending: a reflection or an update.")]
    if not text:
        errors["text"] = [_("Write something before you send it.")]
    elif len(text) > MAX_TEXT:
        errors["text"] = [
            _(
                "This is %(count)s characters; the group takes at most %(n)s at once. Send it "
                "in parts, or shorten it."
            )
            % {"count": f"{len(text):,}", "n": f"{MAX_TEXT:,}"}
        ]
    if errors:
        raise ValidationError(errors)
    return text


def send(actor: User, process: Process | str, kind: str, text: str) -> Submission:
    membership = _open_portal(actor, process, "portal.send")
    process = membership.process
    text = clean(kind, text)
    try:
        sealed = crypto.seal_to_attested_inbox(keyring.current(), process, text.encode())
    except (crypto.UntrustedInbox, keyring.NoKey):
        raise ValidationError(
            _(
                "The portal cannot send this safely right now, so nothing was sent. Tell the "
                "contact group as you agreed; they can set it right by opening the process."
            )
        ) from None
    ring = keyring.current()
    with transaction.atomic():
        entry = Entry.objects.create(
            process=process,
            occurred_on=timezone.localdate(),
            kind=EntryKind.MESSAGE,
            channel=Channel.PORTAL,
            direction=Direction.FROM_X,
            created_by=actor,
        )
        audit.record(actor, process, Kind.CREATE, entry)
        health.entries_added(process.pk, [entry])
        generation, mac = crypto.portal_mac(ring, process.pk, _vouched(process, entry, kind, text))
        submission = Submission.objects.create(
            process=process,
            kind=kind,
            entry=entry,
            sealed=sealed,
            mac=mac,
            mac_generation=generation,
            characters=len(text),
            sent_by=actor,
        )
        audit.record(actor, process, Kind.SEND, submission)
        code = process.code
        transaction.on_commit(lambda: notify_contact_group.enqueue(code))
    return submission


def _vouched(process: Process, entry: Entry, kind: str, text: str) -> bytes:
    """What X's MAC covers: this text, of this kind, for this entry of this process."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{process.pk}|{entry.pk}|{kind}|{digest}".encode()


WAITING = {"filed_at__isnull": True, "refused_at__isnull": True}
FILED_PER_VIEW = 20  # so a page view's work is bounded, whatever rows a database holds


def waiting(process: Process) -> bool:
    return Submission.objects.filter(process=process, **WAITING).exists()


def file_waiting(actor: User, membership: Membership) -> int:
    """Files what X sent into the log, with the actor's keys. Returns how many were filed;
    0 (and nothing written) for a member who may not, or whose keys do not open the inbox. Also
    keeps the inbox vouched for, so X's next send is sealed to the right key.

    Each one is checked first: its entry must be the one his send made (this process's, a
    message from him through the portal, by him, still without text), and his MAC must hold
    over the text it opens to. What fails is refused, once, and never written into the log."""
    if not allowed(membership, "portal.file"):
        return 0
    process = membership.process
    ring = keyring.current()
    crypto.attest_inbox(ring, process)
    if not waiting(process):
        return 0
    filed = 0
    with transaction.atomic():
        rows = (
            Submission.objects.select_for_update()
            .filter(process=process, **WAITING)
            .select_related("entry")
            .order_by("pk")[:FILED_PER_VIEW]
        )
        for submission in rows:
            outcome = _open(ring, process, submission)
            if outcome is None:
                continue  # not these keys: it waits for a member whose keys open it
            if outcome is False:
                submission.refused_at = timezone.now()
                submission.save(update_fields=["refused_at"])
                audit.record(actor, process, Kind.CHANGE, submission)
                continue
            _file(actor, submission, outcome)
            filed += 1
    return filed


def _open(ring, process: Process, submission: Submission) -> str | bool | None:
    """The text X sent; False if the row is not what he sent; None if these keys cannot tell."""
    entry = submission.entry
    if (
        entry.process_id != process.pk
        or (entry.kind, entry.channel, entry.direction)
        != (EntryKind.MESSAGE, Channel.PORTAL, Direction.FROM_X)
        or entry.created_by_id != submission.sent_by_id
        or not Entry.objects.filter(pk=entry.pk, summary=None, text=None).exists()
    ):
        return False
    try:
        text = crypto.open_from_inbox(ring, process, bytes(submission.sealed)).decode()
    except keyring.NoKey:
        return None
    except (crypto.primitives.CryptoError, UnicodeDecodeError):
        return False
    message = _vouched(process, entry, submission.kind, text)
    try:
        _g, mac = crypto.portal_mac(ring, process.pk, message, submission.mac_generation)
    except keyring.NoKey:
        return None
    return text if crypto.primitives.same_mac(submission.mac, mac) else False


def _file(actor: User, submission: Submission, text: str) -> None:
    process, entry = submission.process, submission.entry
    first = text.split("\n", 1)[0].strip()
    entry.summary = first if len(first) <= SUMMARY else first[: SUMMARY - 1] + "…"
    entry.text = text
    entry.save(update_fields=["summary", "text"])
    audit.record(actor, process, Kind.CHANGE, entry)
    if submission.kind == SubmissionKind.REFLECTION:
        reflection = Reflection.objects.create(
            process=process,
            written_on=entry.occurred_on,
            source=Source.ENTRY,
            entry=entry,
            created_by=actor,
        )
        reflection.text = text
        reflection.save()
        audit.record(actor, process, Kind.CREATE, reflection)
    submission.sealed, submission.filed_at = b"", timezone.now()
    submission.save(update_fields=["sealed", "filed_at"])
    audit.record(actor, process, Kind.CHANGE, submission)
