"""Fetching mail over IMAP, while a member of the group is logged in ("Fetch now").

The mailbox's details are sealed under `record`; a fetch opens them with the member's keys.
Only the headers are read first, and only messages to or from X or someone around him are
fetched whole. They are sealed as they arrive into one file, which then goes through the same
summary and confirmation as an upload: a message fetched before, or uploaded before, is
recognised as already in the log. The folder is opened read-only; nothing on the server is
changed, not even a message's "seen" flag.
"""

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.attachments.services import TooLarge
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.processes.models import Process
from uphold.processes.permissions import authorize

from . import parse, services
from .models import ImapAccount, Party, Security, Source

HEADERS = b"RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SENDER TO CC BCC)]"
LOOK_AT = 200  # messages whose headers are asked for at once
FETCH = 20  # messages fetched whole at once
MAX_MESSAGES = 50_000
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$")


@dataclass(frozen=True)
class Details:
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str = "INBOX"


def _clean(details: Details) -> Details:
    errors: dict[str, list[str]] = {}
    host = details.host.strip()
    if not _HOST.match(host):
        errors["host"] = [_("Enter the server's name, like imap.example.org.")]
    if not 1 <= details.port <= 65535:
        errors["port"] = [_("Enter a port from 1 to 65535.")]
    if details.security not in Security.values:
        errors["security"] = [_("Choose how the connection is encrypted from the list.")]
    elif details.security == Security.NONE and host.lower() not in LOOPBACK:
        errors["security"] = [
            _(
                "Without encryption the password would cross the network in clear: choose "
                "SSL/TLS or STARTTLS."
            )
        ]
    if not _plain(details.username.strip()) or len(details.username) > 320:
        errors["username"] = [
            _("Enter the mailbox's user name (often the address), in plain letters and digits.")
        ]
    if not _plain(details.password) or len(details.password) > 1000:
        errors["password"] = [
            _(
                "Enter the mailbox's password. Uphold can send only a password without letters "
                "like ä or ß to the mail server (IMAP's login is plain ASCII)."
            )
        ]
    folder = details.folder.strip() or "INBOX"
    if len(folder) > 200 or not _plain(folder) or any(c in folder for c in '"\\'):
        errors["folder"] = [
            _("Enter a folder name of the mailbox, like INBOX (plain letters, no quotes).")
        ]
    if errors:
        raise ValidationError(errors)
    return Details(host, details.port, details.security, details.username.strip(),
                   details.password, folder)  # fmt: skip


def _plain(text: str) -> bool:
    """Printable ASCII only: IMAP's commands are ASCII, and a line break would end one."""
    return bool(text) and all(" " <= c <= "~" for c in text)


def add_account(actor: User, process: Process | str, details: Details) -> ImapAccount:
    membership = authorize(actor, "mail.import", process)
    details = _clean(details)
    with transaction.atomic():
        account = ImapAccount.objects.create(
            process=membership.process,
            port=details.port,
            security=details.security,
            added_by=actor,
        )
        account.host, account.username = details.host, details.username
        account.password, account.folder = details.password, details.folder
        account.save()
        audit.record(actor, membership.process, Kind.CREATE, account)
    return account


def remove_account(actor: User, process: Process | str, account_id: int) -> None:
    membership = authorize(actor, "mail.import", process)
    with transaction.atomic():
        account = ImapAccount.objects.filter(process=membership.process, pk=account_id).first()
        if account is None:
            raise Http404
        audit.record(actor, membership.process, Kind.DELETE, account)
        account.delete()


def accounts_of(actor: User, process: Process | str) -> list[ImapAccount]:
    membership = authorize(actor, "mail.view", process)
    return list(ImapAccount.objects.filter(process=membership.process)[:20])


# Fetching


class FetchFailed(Exception):
    """The server could not be reached, refused the login, or has no such folder."""


Step = services.Step


@dataclass
class Fetch:
    """A fetch checked and ready to run: the member may, the mailbox is theirs, the dates and
    folder are sound. Running it (`run`) is what streams."""

    actor: User
    process: Process
    account: ImapAccount
    folder: str
    since: date | None
    before: date | None


def prepare(
    actor: User,
    process: Process | str,
    account_id: int,
    *,
    folder: str = "",
    since: date | None = None,
    before: date | None = None,
) -> Fetch:
    membership = authorize(actor, "mail.import", process)
    account = ImapAccount.objects.filter(process=membership.process, pk=account_id).first()
    if account is None:
        raise Http404
    # Its port and encryption are clear columns: never connect on what the chain did not see.
    services.vouched(membership.process, [account])
    if since and before and since >= before:
        raise ValidationError({"before": [_("The end of the range must come after its start.")]})
    folder = _clean(
        Details(
            account.host,
            account.port,
            account.security,
            account.username,
            account.password,
            folder or account.folder,
        )
    ).folder
    return Fetch(actor, membership.process, account, folder, since, before)


def run(job: Fetch) -> Iterator[Step]:
    """Yields what it is doing; the last step carries the summary (a preview, as for an
    upload) or says what failed. Whatever fails, nothing is left behind."""
    context = services.context_for(job.process, job.actor)
    parties = {d for d, k in context.parties.items() if k.party in (Party.X, Party.AROUND)}
    writer = None
    try:
        with _connected(job.account) as connection:
            yield Step(_("Connected to %(host)s.") % {"host": job.account.host})
            uids = _search(connection, job.folder, job.since, job.before)
            yield Step(
                _("%(n)s messages in %(folder)s for those dates.")
                % {"n": f"{len(uids):,}", "folder": job.folder}
            )
            wanted = []
            for start in range(0, len(uids), LOOK_AT):
                wanted += _to_or_from(connection, uids[start : start + LOOK_AT], context, parties)
                yield Step(
                    _("Looked at %(done)s of %(n)s: %(wanted)s to or from the parties.")
                    % {
                        "done": f"{min(start + LOOK_AT, len(uids)):,}",
                        "n": f"{len(uids):,}",
                        "wanted": f"{len(wanted):,}",
                    }
                )
            if not wanted:
                yield Step(_("No message there is to or from X or someone around him."))
                return
            writer = services.writer_for_file(job.actor, job.process, f"IMAP {job.folder}")
            for start in range(0, len(wanted), FETCH):
                for raw in _whole(connection, wanted[start : start + FETCH]):
                    writer.write(_as_mbox(raw))
                yield Step(
                    _("Fetched %(done)s of %(n)s.")
                    % {"done": f"{min(start + FETCH, len(wanted)):,}", "n": f"{len(wanted):,}"}
                )
        source = writer.seal_unfinished()
        writer = None  # the summary holds the file now, and removes it if it fails
        yield from services.preview_steps(job.actor, job.process, [source], source=Source.IMAP)
    except FetchFailed as failed:
        yield Step(str(failed) + " " + _("Nothing was stored."), failed=True)
    except UnicodeError:  # never said how: the text may hold a piece of the password
        yield Step(
            _("The server's answer or a detail of the mailbox is not plain ASCII.")
            + " "
            + _("Nothing was stored."),
            failed=True,
        )
    except TooLarge:
        yield Step(
            _(
                "What the folder holds for those dates is larger than %(mb)s MB: choose a "
                "shorter range. Nothing was stored."
            )
            % {"mb": services.max_file_bytes() // (1024 * 1024)},
            failed=True,
        )
    finally:
        if writer is not None:
            writer.abandon()


class _connected:
    def __init__(self, account: ImapAccount) -> None:
        self.account = account

    def __enter__(self) -> imaplib.IMAP4:
        a = self.account
        timeout = settings.UPHOLD_IMAP_TIMEOUT
        try:
            if a.security == Security.SSL:
                connection = imaplib.IMAP4_SSL(
                    a.host, a.port, ssl_context=ssl.create_default_context(), timeout=timeout
                )
            else:
                connection = imaplib.IMAP4(a.host, a.port, timeout=timeout)
                if a.security == Security.STARTTLS:
                    connection.starttls(ssl.create_default_context())
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
            raise FetchFailed(
                _("Could not connect to %(host)s, port %(port)s (%(why)s).")
                % {"host": a.host, "port": a.port, "why": _reason(error)}
            ) from error
        try:
            connection.login(a.username, a.password)
        except (imaplib.IMAP4.error, OSError) as error:
            _close(connection)
            raise FetchFailed(
                _("The server refused the login of %(user)s: check the user name and password.")
                % {"user": a.username}
            ) from error
        self.connection = connection
        return connection

    def __exit__(self, *exc) -> None:
        _close(self.connection)


def _close(connection: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        connection.logout()


def _reason(error: Exception) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return _("no answer in time")
    if isinstance(error, ConnectionRefusedError):
        return _("nothing answers there")
    if isinstance(error, socket.gaierror):
        return _("no server of that name")
    if isinstance(error, ssl.SSLError):
        return _("the encrypted connection failed")
    return type(error).__name__


def _imap_date(day: date) -> str:
    return f"{day.day:02d}-{imaplib.Months[day.month]}-{day.year}"


def _search(connection, folder: str, since: date | None, before: date | None) -> list[bytes]:
    try:
        status, _data = connection.select(f'"{folder}"', readonly=True)
        if status != "OK":
            raise FetchFailed(_("The mailbox has no folder %(folder)s.") % {"folder": folder})
        criteria = ["ALL"]
        if since:
            criteria += ["SENTSINCE", _imap_date(since)]
        if before:
            criteria += ["SENTBEFORE", _imap_date(before)]
        status, data = connection.uid("SEARCH", None, *criteria)
    except (imaplib.IMAP4.error, OSError) as error:
        raise FetchFailed(
            _("The server stopped answering while searching (%(why)s).") % {"why": _reason(error)}
        ) from error
    uids = data[0].split() if status == "OK" and data and data[0] else []
    if len(uids) > MAX_MESSAGES:
        raise FetchFailed(
            _(
                "The folder holds %(n)s messages for those dates; choose a shorter range "
                "(up to %(max)s)."
            )
            % {"n": f"{len(uids):,}", "max": f"{MAX_MESSAGES:,}"}
        )
    return uids


def _fetched(connection, uids: list[bytes], what: bytes) -> Iterator[tuple[bytes, bytes, int]]:
    """(uid, bytes, size the server gave or 0) of each message asked for."""
    try:
        status, data = connection.uid("FETCH", b",".join(uids), f"(UID {what.decode()})")
    except (imaplib.IMAP4.error, OSError) as error:
        raise FetchFailed(
            _("The server stopped answering while fetching (%(why)s).") % {"why": _reason(error)}
        ) from error
    if status != "OK":
        raise FetchFailed(_("The server would not give the messages."))
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            found = re.search(rb"UID (\d+)", part[0])
            size = re.search(rb"RFC822\.SIZE (\d+)", part[0])
            if found:
                yield found[1], part[1], int(size[1]) if size else 0


def _to_or_from(connection, uids: list[bytes], context, parties: set[str]) -> list[bytes]:
    wanted = []
    for uid, head, size in _fetched(connection, uids, HEADERS):
        if size > parse.MAX_MESSAGE_BYTES:  # never asked for whole: it would be read unread
            continue
        message = parse.headers_of(head)
        addresses = message.senders + message.recipients
        if any(services.address_digest(context.key, a) in parties for a in addresses):
            wanted.append(uid)
    return wanted


def _whole(connection, uids: list[bytes]) -> Iterator[bytes]:
    for _uid, raw, _size in _fetched(connection, uids, b"BODY.PEEK[]"):
        yield raw


def _as_mbox(raw: bytes) -> bytes:
    """One message as an mbox holds it (mboxrd), so the upload's reader reads it back."""
    body = raw.replace(b"\r\n", b"\n")
    body = re.sub(rb"(?m)^(>*From )", rb">\1", body)
    return (
        b"From imap@uphold Thu Jan  1 00:00:00 1970\n"
        + body
        + (b"" if body.endswith(b"\n") else b"\n")
        + b"\n"
    )
