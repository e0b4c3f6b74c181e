"""Mail into the record, for the web, the command line and (later) IMAP alike.

- Addresses: `add_address` / `remove_address` keep the parties' addresses, sealed, each with a
  keyed hash under the process's mail key so a message is matched without opening them all.
- `scan(context, raws)`: each message read and sorted: new, already in the log (and where),
  matching no party, or unreadable (and why). Changes nothing.
- `preview` stores that summary for the web; `choose` records the member's choice for an
  unmatched message; `confirm` reads the files again and writes every new or chosen message
  as a log entry, all in one transaction, or nothing.
- `import_stream` is the command line's: scan, then write, without a stored preview.
- `undo` takes an import back out of the log, as one unit, within a day.

A message is "already in the log" when a message with the same content digest is, and their
Message-IDs agree (or either has none): two different messages sharing a Message-ID both
stay, and the same message from two members' mailboxes is one entry.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.attachments.models import Attachment
from uphold.attachments.services import Writer
from uphold.attachments.services import read as read_attachment
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto import primitives
from uphold.crypto.fields import checking_keys_once
from uphold.people.models import Person
from uphold.processes.models import Membership, Process, Role
from uphold.processes.permissions import authorize
from uphold.processes.queries import meeting_zone
from uphold.record import health
from uphold.record.models import Channel, Direction, Entry, EntryKind
from uphold.record.services import MAX_SUMMARY, MAX_TEXT

from . import parse
from .models import (
    Address,
    ImportedMessage,
    ImportState,
    ItemStatus,
    MailImport,
    MailKey,
    Party,
    PreviewItem,
    Source,
)

UNDO_WITHIN = timedelta(days=1)
MAX_ADDRESSES = 200
MAX_FILES = 100  # Django's own DATA_UPLOAD_MAX_NUMBER_FILES refuses more
LISTED_NEW = 100  # new messages listed by name in a preview; all are counted
BATCH = 200  # entries whose audit events are appended at once
Progress = Callable[[int], None]


class Conflict(Exception):
    """What the summary said no longer holds (an address, another import); nothing written."""


# Keys and hashes


def _key(process: Process, actor: User | None = None) -> bytes:
    """The process's mail key, made by the first member who needs it."""
    found = MailKey.objects.filter(process=process).first()
    if found is not None:
        return found.key
    with transaction.atomic():
        made = MailKey.objects.create(process=process)
        made.key = primitives.random_key()
        made.save()
        audit.record(actor, process, Kind.CREATE, made)
    return made.key


def address_digest(key: bytes, address: str) -> str:
    return primitives.key_mac(key, b"uphold-address", parse.normalise_address(address).encode())


def _digest(key: bytes, purpose: bytes, text: str | bytes) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return primitives.key_mac(key, purpose, data)


class Tampered(ValidationError):
    """A row this needs holds what Uphold never wrote: the work stops, changing nothing."""


def vouched(process: Process, rows: list) -> None:
    """Raises Tampered unless the audit chain's last event about each row records exactly
    what it holds now (its clear columns too: a party, a file list, an entry it points to)."""
    from uphold.audit.models import AuditEvent

    by_model: dict[type, list] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    for model, found in by_model.items():
        latest = {}
        for start in range(0, len(found), 500):
            events = AuditEvent.objects.filter(
                process=process,
                object_type=model._meta.label_lower,
                object_id__in=[str(r.pk) for r in found[start : start + 500]],
            ).order_by("seq")
            for event in events:
                latest[event.object_id] = event
        for row in found:
            event = latest.get(str(row.pk))
            if event is None or event.kind == Kind.DELETE or audit.changed_columns(row, event):
                raise Tampered(
                    _(
                        "Something this needs was changed outside Uphold (%(what)s), so "
                        "nothing was done. Run `uphold verify` and tell the person who runs "
                        "the server."
                    )
                    % {"what": model._meta.verbose_name}
                )


# Addresses


@dataclass(frozen=True)
class AddressBook:
    addresses: list[Address]
    people: list[Person]
    members: list[User]


def addresses_of(actor: User, process: Process | str) -> AddressBook:
    membership = authorize(actor, "mail.view", process)
    process = membership.process
    return AddressBook(
        addresses=list(
            Address.objects.filter(process=process).select_related("person", "member")[
                :MAX_ADDRESSES
            ]
        ),
        people=list(Person.objects.filter(process=process).order_by("pk")),
        members=_group_members(process),
    )


def _group_members(process: Process) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            process=process, role__in=[Role.SUPPORT, Role.CONTACT]
        ).select_related("user")
    ]


def add_address(
    actor: User,
    process: Process | str,
    party: str,
    address: str,
    *,
    person_id: int | None = None,
    member_id: int | None = None,
) -> Address:
    membership = authorize(actor, "mail.addresses", process)
    process = membership.process
    errors: dict[str, list[str]] = {}
    normal = parse.normalise_address(address)
    if not normal or len(address.strip()) > 320:
        errors["address"] = [_("Enter an email address, like name@example.org.")]
    if party not in Party.values:
        errors["party"] = [_("Choose whose address it is from the list.")]
    person = member = None
    if party == Party.AROUND:
        person = Person.objects.filter(process=process, pk=person_id).first()
        if person is None:
            errors["person"] = [_("Choose the person or circle around X it belongs to.")]
    if party == Party.MEMBER:
        member = next((u for u in _group_members(process) if u.pk == member_id), None)
        if member is None:
            errors["member"] = [_("Choose the member of the group it belongs to.")]
    if Address.objects.filter(process=process).count() >= MAX_ADDRESSES:
        errors["address"] = [
            _("This process already holds %(n)s addresses.") % {"n": MAX_ADDRESSES}
        ]
    if errors:
        raise ValidationError(errors)
    key = _key(process, actor)
    digest = address_digest(key, normal)
    with transaction.atomic():
        if Address.objects.filter(process=process, digest=digest).exists():
            raise ValidationError(
                {"address": [_("That address is already listed for this process.")]}
            )
        row = Address.objects.create(
            process=process,
            party=party,
            person=person,
            member=member,
            digest=digest,
            added_by=actor,
        )
        row.address = normal
        row.save()
        audit.record(actor, process, Kind.CREATE, row)
    return row


def remove_address(actor: User, process: Process | str, address_id: int) -> None:
    membership = authorize(actor, "mail.addresses", process)
    with transaction.atomic():
        row = (
            Address.objects.select_for_update()
            .filter(process=membership.process, pk=address_id)
            .first()
        )
        if row is None:
            raise Http404
        audit.record(actor, membership.process, Kind.DELETE, row)
        row.delete()


# Scanning


@dataclass(frozen=True)
class Known:
    party: str
    person_id: int | None
    member_id: int | None


@dataclass
class Context:
    """What sorting a message needs, read once per import: flat whatever the file's size."""

    process: Process
    key: bytes
    parties: dict[str, Known]
    known: dict[str, list[tuple[str, int]]]  # content digest: [(Message-ID digest, entry)]
    threads: dict[str, str]  # Message-ID digest: thread digest, of the log and this import
    zone: object
    seen: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # in this import
    now: datetime = field(default_factory=timezone.now)


def context_for(process: Process, actor: User | None = None) -> Context:
    key = _key(process, actor)
    addresses = list(Address.objects.filter(process=process))
    vouched(process, addresses)  # a party, a person or a member changed behind Uphold's back
    people = set(Person.objects.filter(process=process).values_list("pk", flat=True))
    parties = {
        a.digest: Known(a.party, a.person_id if a.person_id in people else None, a.member_id)
        for a in addresses
    }
    members = {u.pk for u in _group_members(process)}
    for digest, found in list(parties.items()):  # a member who left no longer writes for it
        if found.party == Party.MEMBER and found.member_id not in members:
            parties[digest] = Known(Party.GROUP, None, None)
    known: dict[str, list[tuple[str, int]]] = {}
    threads: dict[str, str] = {}
    for content, message_id, entry_id, thread in ImportedMessage.objects.filter(
        process=process
    ).values_list("content", "message_id", "entry_id", "thread"):
        known.setdefault(content, []).append((message_id, entry_id))
        if message_id and thread:
            threads[message_id] = thread
    return Context(process, key, parties, known, threads, meeting_zone(process))


@dataclass
class Scanned:
    number: int
    status: str
    message: parse.Message | None = None
    reason: str = ""
    direction: str = ""
    by: int | None = None
    around: list[int] = field(default_factory=list)
    present: int | None = None  # the entry it is already in
    present_number: int | None = None  # the message of this import it repeats
    digests: tuple[str, str, str] = ("", "", "")
    occurred_on: date | None = None

    def label(self) -> str:
        if self.message is None:
            return self.reason
        m = self.message
        day = formats.date_format(self.occurred_on, "DATE_FORMAT") if self.occurred_on else ""
        subject = m.subject or _("(no subject)")
        return f"{day} · {m.from_line or ', '.join(m.senders)} → {m.to_line} · {subject}"[:1000]


def scan(context: Context, raws: Iterable[parse.Raw]) -> Iterator[Scanned]:
    for raw in raws:
        try:
            message = parse.read(raw, context.now)
        except parse.Unreadable as unreadable:
            yield Scanned(raw.number, ItemStatus.UNREADABLE, reason=str(unreadable))
            continue
        yield _sorted(context, raw.number, message)


def _sorted(context: Context, number: int, message: parse.Message) -> Scanned:
    key = context.key
    message_id = _digest(key, b"uphold-msgid", message.message_id) if message.message_id else ""
    # A thread is named by its first message; an answer whose chain of references is cut
    # short joins the thread of the message it answers, when that is known.
    parent = _digest(key, b"uphold-msgid", message.parent) if message.parent else ""
    thread = context.threads.get(parent) or (
        _digest(key, b"uphold-thread", message.thread_root) if message.thread_root else ""
    )
    if message_id and thread:
        context.threads.setdefault(message_id, thread)
    digests = (message_id, _digest(key, b"uphold-content", message.canonical()), thread)
    found = Scanned(
        number,
        ItemStatus.NEW,
        message=message,
        digests=digests,
        occurred_on=timezone.localtime(message.sent_at, context.zone).date(),
    )
    content = digests[1]
    for earlier_id, entry_id in context.known.get(content, []):
        if _same_id(earlier_id, message_id):
            found.status, found.present = ItemStatus.PRESENT, entry_id
            return found
    for earlier_id, earlier_number in context.seen.get(content, []):
        if _same_id(earlier_id, message_id):
            found.status, found.present_number = ItemStatus.PRESENT, earlier_number
            return found
    context.seen.setdefault(content, []).append((message_id, number))
    _direction(context, found, message)
    return found


def _same_id(a: str, b: str) -> bool:
    return not a or not b or a == b


def _direction(context: Context, found: Scanned, message: parse.Message) -> None:
    def party_of(address: str) -> Known | None:
        return context.parties.get(address_digest(context.key, address))

    senders = [p for p in map(party_of, message.senders) if p]
    recipients = [p for p in map(party_of, message.recipients) if p]
    found.around = sorted(
        {p.person_id for p in senders + recipients if p.party == Party.AROUND and p.person_id}
    )
    found.by = next((p.member_id for p in senders if p.party == Party.MEMBER), None)
    if any(p.party == Party.X for p in senders):
        found.direction = Direction.FROM_X
    elif any(p.party == Party.AROUND for p in senders):
        found.direction = Direction.FROM_CIRCLE
    elif any(p.party == Party.X for p in recipients):
        found.direction = Direction.TO_X
    elif any(p.party == Party.AROUND for p in recipients):
        found.direction = Direction.TO_CIRCLE
    else:
        found.status = ItemStatus.UNMATCHED


# Choices for unmatched messages

CHOICES = (
    Direction.FROM_X,
    Direction.TO_X,
    Direction.FROM_CIRCLE,
    Direction.TO_CIRCLE,
    Direction.NONE,
)


def parse_choice(process: Process, choice: str) -> tuple[str, int | None] | None:
    """(direction, person) from "from_circle:12", or None for "skip"; ValidationError else."""
    choice = (choice or "").strip()
    if choice in ("", "skip"):
        return None
    direction, _sep, person = choice.partition(":")
    if direction not in CHOICES:
        raise ValidationError(_("Choose from the list what this message is."))
    if direction in (Direction.FROM_CIRCLE, Direction.TO_CIRCLE):
        if not person.isdigit() or not Person.objects.filter(process=process, pk=person).exists():
            raise ValidationError(_("Choose the person or circle around X the message is with."))
        return direction, int(person)
    if person:
        raise ValidationError(_("Choose from the list what this message is."))
    return direction, None


# Files


def _files(attachments: list[Attachment]) -> Iterator[parse.Raw]:
    """Every message of every uploaded file, in the order they were given."""
    return parse.numbered(read_attachment(a) for a in attachments)


def _summary_mac(key: bytes, batch: MailImport) -> str:
    """Binds a summary's files, their order, its counts and its member under the mail key: a
    database writer can neither swap the files nor make the counts say something else."""
    import json

    message = json.dumps(
        [batch.pk, batch.process_id, batch.by_id, [str(i) for i in batch.files], batch.counts],
        sort_keys=True,
    )
    return primitives.key_mac(key, b"uphold-mail-sum", message.encode())


def _sealed_choice(batch_id: int, number: int, choice: str) -> str:
    return f"{batch_id}:{number}:{choice}"


def _opened_choice(item: PreviewItem) -> str:
    """The member's choice for this row, or "" if the sealed text is not for this very
    summary and message (moved there by a database writer)."""
    batch, _sep, rest = (item.choice or "").partition(":")
    number, _sep, choice = rest.partition(":")
    if batch != str(item.batch_id) or number != str(item.number):
        return ""
    return choice


def _sources(batch: MailImport) -> list[Attachment]:
    ids = [str(i) for i in batch.files]
    found = {
        str(a.pk): a
        for a in Attachment.objects.filter(
            process=batch.process, pk__in=ids, complete=False, scope="record"
        )
    }
    if len(found) != len(ids) or not primitives.same_mac(
        batch.files_digest, _summary_mac(_key(batch.process), batch)
    ):
        raise ValidationError(
            _(
                "The uploaded files of this summary are gone (a summary is kept for a day). "
                "Upload them again."
            )
        )
    return [found[i] for i in ids]


def writer_for_file(actor: User, process: Process | str, name: str) -> Writer:
    """Where an uploaded mail file is sealed as it arrives, until the import is confirmed."""
    return Writer(actor, process, "record", name, action="mail.import", limit=max_file_bytes())


def max_file_bytes() -> int:
    from django.conf import settings

    return settings.UPHOLD_MAIL_MAX_MB * 1024 * 1024


# The web's preview and confirmation


@dataclass
class Step:
    """What a long read reports as it goes (an upload read, an IMAP fetch): a line to show,
    and at the end the summary, or what failed."""

    text: str
    batch: MailImport | None = None
    failed: bool = False


SHOW_EVERY = 500  # messages read between two lines of progress
LISTED_EACH = 1000  # messages of each other kind kept in a summary (all are counted)
MAX_MESSAGES = 100_000  # in one import


def preview(
    actor: User, process: Process | str, files: list[Attachment], source: str = Source.UPLOAD
) -> MailImport:
    """Reads the files and stores what each message is; writes nothing to the log."""
    *_steps, last = preview_steps(actor, process, files, source)
    if last.failed:
        raise ValidationError(last.text)
    return last.batch


def preview_steps(
    actor: User, process: Process | str, files: list[Attachment], source: str = Source.UPLOAD
) -> Iterator[Step]:
    """As `preview`, saying how far it is every 500 messages; the last step carries the
    summary. The member's right and the files are checked now, before the first step."""
    membership = authorize(actor, "mail.import", process)
    if not files or len(files) > MAX_FILES:
        raise ValidationError(_("Choose from 1 to %(n)s files.") % {"n": MAX_FILES})
    return _previewing(actor, membership.process, files, source)


def _previewing(
    actor: User, process: Process, files: list[Attachment], source: str
) -> Iterator[Step]:
    """Rows are written a few hundred at a time, each in a short transaction: a summary is
    not the record, and a long one must not hold the database for everyone else."""
    ids = [str(f.pk) for f in files]
    context = context_for(process, actor)
    counts = dict.fromkeys(ItemStatus.values, 0)
    read = 0
    batch = None
    try:
        batch = MailImport.objects.create(
            process=process,
            source=source,
            state=ImportState.PREVIEW,
            files=ids,
            files_digest="",
            by=actor,
        )
        pending: list[Scanned] = []
        for scanned in scan(context, _files(files)):
            counts[scanned.status] += 1
            read += 1
            if read > MAX_MESSAGES:
                raise ValidationError(
                    _("The files hold more than %(n)s messages: import them in parts.")
                    % {"n": f"{MAX_MESSAGES:,}"}
                )
            limit = LISTED_NEW if scanned.status == ItemStatus.NEW else LISTED_EACH
            if counts[scanned.status] <= limit:
                scanned.message = _light(scanned.message)
                pending.append(scanned)
            if len(pending) >= BATCH:
                _store_items(batch, pending)
                pending = []
            if read % SHOW_EVERY == 0:
                yield Step(_("Read %(n)s messages.") % {"n": f"{read:,}"})
        _store_items(batch, pending)
        batch.counts = counts
        batch.files_digest = _summary_mac(context.key, batch)
        batch.save(update_fields=["counts", "files_digest"])
    except ValidationError as refused:
        _forget(batch, ids)
        yield Step(" ".join(refused.messages) + " " + _("Nothing was stored."), failed=True)
        return
    except BaseException:  # failed, or the page closed: the summary and the files go
        _forget(batch, ids)
        raise
    yield Step(
        _("Read %(n)s messages. Nothing is in the log yet: read the summary.") % {"n": f"{read:,}"},
        batch=batch,
    )


def _store_items(batch: MailImport, scanned: list[Scanned]) -> None:
    with transaction.atomic(), checking_keys_once():
        for one in scanned:
            item = PreviewItem.objects.create(
                batch=batch,
                process=batch.process,
                number=one.number,
                status=one.status,
                occurred_on=one.occurred_on,
                present_id=one.present,
            )
            item.label = _present_label(one) if one.present_number else one.label()
            item.save(update_fields=["label"])


def _forget(batch: MailImport | None, ids: list[str]) -> None:
    if batch is not None and batch.pk is not None:
        MailImport.objects.filter(pk=batch.pk, state=ImportState.PREVIEW).delete()
    Attachment.objects.filter(pk__in=ids, complete=False).delete()


def remove_stale_previews(now: datetime | None = None) -> int:
    """Summaries nobody confirmed or dropped within a day: their files are removed with the
    unfinished uploads, so they could not be confirmed anyway. Never in the chain (a preview
    enters it when imported), so removing them leaves it whole. Needs no key."""
    cutoff = (now or timezone.now()) - UNDO_WITHIN
    stale = MailImport.objects.filter(state=ImportState.PREVIEW, created_at__lt=cutoff)
    with transaction.atomic():
        Attachment.objects.filter(
            complete=False,
            pk__in=[f for files in stale.values_list("files", flat=True) for f in files],
        ).delete()
        removed, _ = stale.delete()
    return removed


def _present_label(scanned: Scanned) -> str:
    return _("%(label)s (the same as message %(n)s of this import)") % {
        "label": scanned.label(),
        "n": scanned.present_number,
    }


def batch_of(actor: User, process: Process | str, batch_id: int, action="mail.view") -> MailImport:
    membership = authorize(actor, action, process)
    batch = (
        MailImport.objects.filter(process=membership.process, pk=batch_id)
        .select_related("by", "undone_by")
        .first()
    )
    if batch is None:
        raise Http404
    return batch


def _own_preview(actor: User, process: Process | str, batch_id: int) -> MailImport:
    batch = batch_of(actor, process, batch_id, "mail.import")
    if batch.state != ImportState.PREVIEW:
        raise ValidationError(_("This import was confirmed or dropped already."))
    if batch.by_id != actor.pk:
        raise PermissionDenied(_("Only the member who uploaded the files confirms this import."))
    return batch


def choose(actor: User, process: Process | str, batch_id: int, number: int, choice: str) -> None:
    """What an unmatched message is (or that it is skipped), chosen by the member."""
    batch = _own_preview(actor, process, batch_id)
    parse_choice(batch.process, choice)
    with transaction.atomic():
        item = (
            PreviewItem.objects.select_for_update()
            .filter(batch=batch, number=number, status=ItemStatus.UNMATCHED)
            .first()
        )
        if item is None:
            raise ValidationError(_("That message is not one waiting for a choice."))
        item.choice = "" if choice in ("", "skip") else _sealed_choice(batch.pk, number, choice)
        item.save(update_fields=["choice"])


def drop(actor: User, process: Process | str, batch_id: int) -> None:
    """Forgets a preview and its uploaded files; the log is as it was."""
    batch = _own_preview(actor, process, batch_id)
    with transaction.atomic():
        locked = MailImport.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None or locked.state != ImportState.PREVIEW:
            raise ValidationError(_("This import was confirmed or dropped already."))
        Attachment.objects.filter(
            process=batch.process, pk__in=batch.files, complete=False
        ).delete()
        batch.delete()


def confirm(
    actor: User, process: Process | str, batch_id: int, progress: Progress | None = None
) -> MailImport:
    """Writes every new message, and every unmatched one the member chose a direction for, as
    a log entry, in one transaction. If the messages no longer sort as the summary said, it
    is a conflict and nothing is written."""
    batch = _own_preview(actor, process, batch_id)
    authorize(actor, "record.write", batch.process)
    files = _sources(batch)
    chosen = {}
    for item in PreviewItem.objects.filter(batch=batch, status=ItemStatus.UNMATCHED):
        picked = parse_choice(batch.process, _opened_choice(item))
        if picked is not None:
            chosen[item.number] = picked
    with transaction.atomic():
        locked = MailImport.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None or locked.state != ImportState.PREVIEW:
            raise ValidationError(_("This import was confirmed or dropped already."))
        counts = _write(actor, batch, _files(files), chosen, progress)
        if counts["sorted"] != batch.counts:
            raise Conflict
        batch.state, batch.imported_at = ImportState.IMPORTED, timezone.now()
        batch.counts = counts["sorted"] | {"imported": counts["imported"]}
        batch.files, batch.files_digest = [], ""
        batch.save()
        audit.record(actor, batch.process, Kind.CREATE, batch)
        Attachment.objects.filter(pk__in=[f.pk for f in files], complete=False).delete()
        PreviewItem.objects.filter(batch=batch).delete()
    return batch


def _write(
    actor: User,
    batch: MailImport,
    raws: Iterable[parse.Raw],
    chosen: dict[int, tuple[str, int | None]],
    progress: Progress | None,
) -> dict:
    """Inside the caller's transaction: one entry per new or chosen message, with its
    attachments and its index row; audit events appended a batch at a time."""
    process = batch.process
    context = context_for(process, actor)
    members = {u.pk for u in _group_members(process)}
    sorted_counts = dict.fromkeys(ItemStatus.values, 0)
    imported = 0
    pending: list[tuple[int, int]] = []
    with checking_keys_once():
        for scanned in scan(context, raws):
            sorted_counts[scanned.status] += 1
            if progress:
                progress(scanned.number)
            if scanned.status == ItemStatus.UNMATCHED and scanned.number in chosen:
                scanned.direction, person = chosen[scanned.number]
                scanned.around = [person] if person else scanned.around
            elif scanned.status != ItemStatus.NEW:
                continue
            entry, message_row = _entry(actor, batch, scanned, members)
            pending.append((entry.pk, message_row.pk))
            imported += 1
            if len(pending) >= BATCH:
                _record(actor, process, pending)
                pending = []
        _record(actor, process, pending)
        if imported:
            health.refold(process.pk)
    return {"sorted": sorted_counts, "imported": imported}


def _record(actor: User, process: Process, pending: list[tuple[int, int]]) -> None:
    if pending:
        audit.record_many(actor, process, Kind.CREATE, [Entry(pk=e) for e, _m in pending])
        audit.record_many(actor, process, Kind.CREATE, [ImportedMessage(pk=m) for _e, m in pending])


def _entry(
    actor: User, batch: MailImport, scanned: Scanned, members: set[int]
) -> tuple[Entry, ImportedMessage]:
    message = scanned.message
    entry = Entry.objects.create(
        process=batch.process,
        occurred_on=min(scanned.occurred_on, timezone.localdate()),
        kind=EntryKind.MESSAGE,
        channel=Channel.EMAIL,
        direction=scanned.direction,
        by_id=scanned.by if scanned.by in members else None,
        created_by=actor,
    )
    summary = message.subject or _("(no subject)")
    entry.summary = summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…"
    text, cut = _text_of(message)
    entry.text = text
    entry.save()
    if scanned.around:
        entry.around.set(scanned.around)
    documents = [(a.name, a.data) for a in message.attachments]
    if cut:
        documents.append((_("message in full.txt"), message.body.encode("utf-8", "replace")))
    if documents:
        entry.attachments.set([_document(actor, batch, name, data) for name, data in documents])
    message_id, content, thread = scanned.digests
    row = ImportedMessage.objects.create(
        process=batch.process,
        batch=batch,
        entry=entry,
        message_id=message_id,
        content=content,
        thread=thread,
    )
    return entry, row


def _text_of(message: parse.Message) -> tuple[str, bool]:
    sent = formats.date_format(timezone.localtime(message.sent_at), "DATETIME_FORMAT")
    head = [
        f"{_('From')}: {message.from_line}",
        f"{_('To')}: {message.to_line}" if message.to_line else "",
        f"{_('Cc')}: {message.cc_line}" if message.cc_line else "",
        f"{_('Date')}: {sent}",
    ]
    head = "\n".join(line for line in head if line)
    room = MAX_TEXT - len(head) - 200
    body, cut = message.body, len(message.body) > room
    if cut:
        body = (
            body[:room]
            + "\n\n"
            + _("[The message is longer than fits here; it is attached in full.]")
        )
    return f"{head}\n\n{body}".strip(), cut


def _document(actor: User, batch: MailImport, name: str, data: bytes) -> Attachment:
    writer = Writer(actor, batch.process, "record", name, action="mail.import")
    for start in range(0, len(data), 1024 * 1024):
        writer.write(data[start : start + 1024 * 1024])
    return writer.finish()


# The command line


@dataclass
class Summary:
    counts: dict[str, int]
    listed: list[Scanned]  # unmatched, unreadable and already present, with their reasons


def summarise(
    actor: User, process: Process | str, raws: Iterable[parse.Raw], progress: Progress | None
) -> Summary:
    membership = authorize(actor, "mail.import", process)
    context = context_for(membership.process, actor)
    counts = dict.fromkeys(ItemStatus.values, 0)
    listed = []
    for scanned in scan(context, raws):
        counts[scanned.status] += 1
        if progress:
            progress(scanned.number)
        if scanned.status != ItemStatus.NEW and len(listed) < 1000:
            scanned.message = _light(scanned.message)
            listed.append(scanned)
    return Summary(counts, listed)


def _light(message: parse.Message | None) -> parse.Message | None:
    """Enough of a message to name it in a list, without its body and attachments."""
    if message is None:
        return None
    message.body, message.attachments = "", []
    return message


def import_stream(
    actor: User,
    process: Process | str,
    raws: Iterable[parse.Raw],
    expected: dict[str, int],
    source: str = Source.COMMAND,
    progress: Progress | None = None,
) -> MailImport:
    """Writes the new messages of what `summarise` read (the same stream, read again), all or
    none; unmatched messages are left out. A conflict if they no longer sort the same."""
    membership = authorize(actor, "mail.import", process)
    authorize(actor, "record.write", membership.process)
    with transaction.atomic():
        batch = MailImport.objects.create(
            process=membership.process, source=source, state=ImportState.PREVIEW, by=actor
        )
        counts = _write(actor, batch, raws, {}, progress)
        if counts["sorted"] != expected:
            raise Conflict
        batch.state, batch.imported_at = ImportState.IMPORTED, timezone.now()
        batch.counts = counts["sorted"] | {"imported": counts["imported"]}
        batch.save()
        audit.record(actor, batch.process, Kind.CREATE, batch)
    return batch


# Undoing


def undoable(batch: MailImport, now: datetime | None = None) -> bool:
    return (
        batch.state == ImportState.IMPORTED
        and batch.imported_at is not None
        and (now or timezone.now()) - batch.imported_at <= UNDO_WITHIN
    )


def undo(actor: User, process: Process | str, batch_id: int, now: datetime | None = None) -> int:
    """Deletes the import's entries, their documents and index rows, as one unit; refused
    after a day, or once anything else in the record refers to one of its entries (an edit,
    a reflection, a stance): that work would be lost with it. Returns how many went."""
    membership = authorize(actor, "record.write", process)
    process = membership.process
    with transaction.atomic():
        batch = MailImport.objects.select_for_update().filter(process=process, pk=batch_id).first()
        if batch is None:
            raise Http404
        if not undoable(batch, now):
            raise ValidationError(
                _("Only an import made in the last day can be undone; this one cannot.")
            )
        messages = list(batch.messages.filter(process=process))
        entry_ids = [m.entry_id for m in messages]
        entries = list(Entry.objects.filter(pk__in=entry_ids, process=process))
        documents = list(
            Attachment.objects.filter(
                process=process,
                pk__in=Entry.attachments.through.objects.filter(entry_id__in=entry_ids).values(
                    "attachment_id"
                ),
            )
        )
        # Each row as the import wrote it, each entry made by it: the index's clear columns
        # are not trusted to say which entries are the import's.
        vouched(process, [batch, *messages, *entries, *documents])
        made = batch.imported_at
        if len(entries) != len(entry_ids) or any(
            e.created_by_id != batch.by_id or not batch.created_at <= e.created_at <= made
            for e in entries
        ):
            raise Tampered(
                _("The import's index does not match its entries, so nothing was undone.")
            )
        later = [d for d in documents if d.created_at > made]
        used = _entries_in_use(entry_ids)
        if later:
            used = sorted(
                set(used)
                | set(
                    Entry.attachments.through.objects.filter(
                        entry_id__in=entry_ids, attachment_id__in=[d.pk for d in later]
                    ).values_list("entry_id", flat=True)
                )
            )
        if used:
            raise ValidationError(
                _(
                    "Entries of this import were worked on since (edited, linked or "
                    "reviewed): %(entries)s. Undoing it would lose that work, so nothing "
                    "was undone."
                )
                % {"entries": ", ".join(str(e) for e in used[:20])}
            )
        audit.record_many(actor, process, Kind.DELETE, messages)
        audit.record_many(actor, process, Kind.DELETE, entries)
        audit.record_many(actor, process, Kind.DELETE, documents)
        ImportedMessage.objects.filter(pk__in=[m.pk for m in messages]).delete()
        Entry.objects.filter(pk__in=entry_ids, process=process).delete()
        Attachment.objects.filter(pk__in=[d.pk for d in documents]).delete()
        batch.state, batch.undone_at, batch.undone_by = ImportState.UNDONE, timezone.now(), actor
        batch.save(update_fields=["state", "undone_at", "undone_by"])
        audit.record(actor, process, Kind.CHANGE, batch)
        health.refold(process.pk)
    return len(entry_ids)


def _entries_in_use(entry_ids: list[int]) -> list[int]:
    """Entries edited since, or that another row of the record points to."""
    used = set(Entry.objects.filter(pk__in=entry_ids, revision__gt=1).values_list("pk", flat=True))
    for relation in Entry._meta.related_objects:
        if relation.related_model is ImportedMessage or relation.many_to_many:
            continue
        name = relation.field.name
        used |= set(
            relation.related_model._default_manager.filter(
                **{f"{name}__in": entry_ids}
            ).values_list(name, flat=True)
        )
    return sorted(used)


def imports_of(actor: User, process: Process | str) -> list[MailImport]:
    membership = authorize(actor, "mail.view", process)
    return list(
        MailImport.objects.filter(process=membership.process)
        .filter(Q(state=ImportState.PREVIEW, by=actor) | ~Q(state=ImportState.PREVIEW))
        .select_related("by")[:20]
    )
