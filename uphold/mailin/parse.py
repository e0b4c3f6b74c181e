"""Reading mail as it comes: a stream of bytes (one .eml, or an mbox of thousands) split into
messages one at a time, and each message read into what a log entry needs.

Nothing here knows a process or a key. Memory stays bounded by the largest message: an mbox is
never read whole, and a message larger than MAX_MESSAGE_BYTES is skipped unread (reported).
Whatever the bytes, `read` either returns a Message or raises Unreadable with the reason; any
other exception out of it is a bug (the fuzz test holds it to that).
"""

import codecs
import contextlib
import email
import email.policy
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message as RawMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from django.utils.translation import gettext as _

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a 30 MB attachment is about 41 MB in base64
MAX_ADDRESSES = 500
MAX_HEADER = 16 * 1024  # characters of one header that are read
MAX_PARTS = 500  # parts of one message
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
SEPARATOR = b"\nFrom "
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_SPACE = re.compile(r"\s+")


class Unreadable(Exception):
    """A message Uphold cannot take, with the reason in the member's language."""


@dataclass
class Raw:
    """One message as found in its file: its place (1 for the first), its bytes (None when it
    was too large to read) and, for an mbox, the date on its "From " line."""

    number: int
    data: bytes | None
    envelope_date: datetime | None = None
    size: int = 0


@dataclass
class Attachment:
    name: str
    data: bytes


@dataclass
class Message:
    message_id: str
    sent_at: datetime
    senders: list[str]
    recipients: list[str]
    from_line: str
    to_line: str
    cc_line: str
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    thread_root: str = ""
    parent: str = ""  # the message it answers, if it says

    def canonical(self) -> bytes:
        """What makes two copies the same message, whichever mailbox they come from: not the
        headers a server or a mail program adds on the way (Received, Status, flags)."""
        parts = [
            "uphold-mail-v1",
            self.sent_at.astimezone(UTC).isoformat(),
            ",".join(sorted(self.senders)),
            ",".join(sorted(set(self.recipients))),
            _SPACE.sub(" ", self.subject).strip(),
            _SPACE.sub(" ", self.body).strip(),
            ",".join(sorted(hashlib.sha256(a.data).hexdigest() for a in self.attachments)),
        ]
        return "\x00".join(parts).encode("utf-8", "surrogatepass")


# Splitting a stream into messages


def split(chunks: Iterable[bytes]) -> Iterator[Raw]:
    """The messages of an mbox (a stream whose first line starts "From "), or the one message
    of an .eml. Lines escaped as ">From " inside an mbox message are given back their "From "
    (mboxrd: one ">" less), so a message reads the same as when fetched over IMAP."""
    pending = bytearray()
    stream = iter(chunks)
    for chunk in stream:
        pending += chunk
        if len(pending) >= 5 or not chunk:
            break
    start = pending.lstrip(b"\r\n")
    if not start.startswith(b"From "):
        yield from _one(pending, stream)
        return
    del pending[: len(pending) - len(start)]
    yield from _mbox(pending, stream)


def numbered(files: Iterable[Iterable[bytes]]) -> Iterator[Raw]:
    """Every message of every file (each a stream of chunks), numbered across them."""
    number = 0
    for chunks in files:
        for raw in split(chunks):
            number += 1
            raw.number = number
            yield raw


def _one(pending: bytearray, stream: Iterator[bytes]) -> Iterator[Raw]:
    size, too_large = len(pending), False
    for chunk in stream:
        size += len(chunk)
        if size > MAX_MESSAGE_BYTES:
            too_large = True
            pending.clear()
            continue
        pending += chunk
    if size == 0 or not bytes(pending).strip():
        return
    yield Raw(1, None if too_large else bytes(pending), size=size)


def _mbox(pending: bytearray, stream: Iterator[bytes]) -> Iterator[Raw]:
    number = 0
    current = bytearray()  # the message being read, "From " line included
    size, too_large = 0, False

    def finished() -> Raw:
        envelope, _newline, body = bytes(current).partition(b"\n")
        data = None if too_large else _ESCAPED_FROM.sub(rb"\1", body)
        return Raw(number, data, _envelope_date(envelope), size)

    ended = False
    while True:
        at = pending.find(SEPARATOR)
        if at < 0 and not ended:
            keep = len(SEPARATOR) - 1  # a separator may straddle two chunks
            take = max(0, len(pending) - keep)
            if take:
                size += take
                if size > MAX_MESSAGE_BYTES:
                    too_large = True
                    current.clear()
                else:
                    current += pending[:take]
                del pending[:take]
            chunk = next(stream, None)
            if chunk is None:
                ended = True
            else:
                pending += chunk
            continue
        cut = len(pending) if at < 0 else at + 1
        size += cut
        if size > MAX_MESSAGE_BYTES:
            too_large = True
            current.clear()
        elif not too_large:
            current += pending[:cut]
        del pending[:cut]
        if current or too_large:
            number += 1
            yield finished()
        current, size, too_large = bytearray(), 0, False
        if at < 0:
            return


def _envelope_date(line: bytes) -> datetime | None:
    """The date on an mbox "From sender Sat Jan  3 01:05:34 1996" line, read as UTC."""
    words = line.decode("ascii", "replace").split()
    if len(words) < 6:
        return None
    try:
        moment = datetime.strptime(" ".join(words[-5:]), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC)


# Reading one message


def read(raw: Raw, now: datetime | None = None) -> Message:
    if raw.data is None:
        raise Unreadable(
            _("It is larger than %(mb)s MB, so Uphold did not read it.")
            % {"mb": MAX_MESSAGE_BYTES // (1024 * 1024)}
        )
    if not raw.data.strip():
        raise Unreadable(_("It is empty."))
    if raw.data.count(b"\n--") > 4 * MAX_PARTS:  # before parsing builds every part
        raise Unreadable(_("It has more than %(n)s parts.") % {"n": MAX_PARTS})
    try:
        # compat32 (the email package's fast, lenient reader); headers decoded in `_decoded`
        message = email.message_from_bytes(raw.data, policy=email.policy.compat32)
    except Exception as error:  # the email package's own failures on broken input
        raise Unreadable(_("Its headers cannot be read.")) from error
    if not message.keys():
        raise Unreadable(_("It has no headers: it is not an email."))
    senders = _addresses(message, "from") or _addresses(message, "sender")
    if not senders:
        raise Unreadable(_("It names no sender (no From line)."))
    recipients = [
        *_addresses(message, "to"),
        *_addresses(message, "cc"),
        *_addresses(message, "bcc"),
    ][:MAX_ADDRESSES]
    sent_at = _sent_at(message, raw.envelope_date, now or datetime.now(UTC))
    body, attachments = _content(message)
    message_id = _message_id(_header(message, "message-id"))
    references = _header(message, "references").split() or _header(message, "in-reply-to").split()
    return Message(
        message_id=message_id,
        sent_at=sent_at,
        senders=senders,
        recipients=recipients,
        from_line=_header(message, "from"),
        to_line=_header(message, "to"),
        cc_line=_header(message, "cc"),
        subject=_header(message, "subject"),
        body=body,
        attachments=attachments,
        thread_root=_message_id(references[0]) if references else message_id,
        parent=_message_id(references[-1]) if references else "",
    )


@dataclass
class Heads:
    senders: list[str]
    recipients: list[str]


def headers_of(data: bytes) -> Heads:
    """Who sent and received a message, from its header lines alone (an IMAP look-ahead)."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:
        return Heads([], [])
    recipients = [
        *_addresses(message, "to"),
        *_addresses(message, "cc"),
        *_addresses(message, "bcc"),
    ]
    return Heads(_addresses(message, "from") or _addresses(message, "sender"), recipients)


def _header(message: RawMessage, name: str) -> str:
    """The header decoded (RFC 2047, or raw bytes in UTF-8 or Windows-1252), in one line."""
    try:
        value = message.get(name)
    except Exception:
        value = None
    return _clean(_SPACE.sub(" ", _decoded(value)).strip())[:2000]


def _decoded(value) -> str:
    if value is None:
        return ""
    text = str(value)[:MAX_HEADER]  # decoding is slow on a huge header: the start is enough
    if "=?" in text:
        try:
            text = str(make_header(decode_header(text)))
        except Exception:  # an unknown charset or a broken encoded word: each part on its own
            with contextlib.suppress(Exception):
                text = " ".join(
                    decode(part, charset or "utf-8") if isinstance(part, bytes) else part
                    for part, charset in decode_header(text)
                )
    if any("\udc80" <= c <= "\udcff" for c in text):  # 8-bit bytes the parser kept as they were
        text = decode(text.encode("utf-8", "surrogateescape"), "utf-8")
    return text


def _addresses(message: RawMessage, name: str) -> list[str]:
    try:
        values = [_decoded(v) for v in message.get_all(name) or []]
    except Exception:
        values = []
    found: dict[str, None] = {}  # in order, each once
    for _name, address in getaddresses([v[:MAX_HEADER] for v in values]):
        address = normalise_address(address)
        if address:
            found.setdefault(address)
            if len(found) >= MAX_ADDRESSES:
                break
    return list(found)


def normalise_address(address: str) -> str:
    """How an address is compared and hashed: trimmed, in lower case; "" if not an address."""
    address = _SPACE.sub("", address or "").strip("<>").lower()
    if address.count("@") != 1 or address.startswith("@") or address.endswith("@"):
        return ""
    return address[:320]


def _message_id(value: str) -> str:
    return _SPACE.sub("", value).strip("<>")[:998]


def _sent_at(message: RawMessage, envelope: datetime | None, now: datetime) -> datetime:
    """The Date line; if it is missing, unreadable or far off, the mbox "From " line's date,
    then the newest Received line's. Without any of them the message cannot go in the log."""
    candidates = [_date(_header(message, "date")), envelope]
    try:
        received = message.get_all("received") or []
    except Exception:
        received = []
    candidates += [_date(str(line).rpartition(";")[2]) for line in received[:1]]
    for moment in candidates:
        if moment is not None and EARLIEST <= moment <= now + timedelta(days=1):
            return moment
    raise Unreadable(_("It has no date Uphold can read (no Date line, or a broken one)."))


def _date(text: str) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _content(message: RawMessage) -> tuple[str, list[Attachment]]:
    """The text to read (the plain part, else the HTML part as text) and the attachments."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    _walk(message, plain, html, attachments)
    if plain:
        body = "\n\n".join(plain)
    elif html:
        body = "\n\n".join(html_to_text(h) for h in html)
    else:
        body = ""
    return _clean(body).strip(), attachments


def _walk(part: RawMessage, plain: list, html: list, attachments: list, depth: int = 0) -> None:
    if depth > 20:
        raise Unreadable(_("Its parts are nested more than 20 deep."))
    if len(plain) + len(html) + len(attachments) > MAX_PARTS:
        raise Unreadable(_("It has more than %(n)s parts.") % {"n": MAX_PARTS})
    kind = part.get_content_type()
    if part.is_multipart():
        if kind == "message/rfc822":  # a forwarded message: kept whole, as an attachment
            attachments.append(_attachment(part, len(attachments), forwarded=True))
            return
        children = part.get_payload()
        if not isinstance(children, list):
            return
        if len(children) > MAX_PARTS:
            raise Unreadable(_("It has more than %(n)s parts.") % {"n": MAX_PARTS})
        if kind == "multipart/alternative":
            # The alternatives say the same: the plain one if there is one, else the richest.
            texts = [c for c in children if c.get_content_type() == "text/plain"]
            children = texts[:1] or children[-1:]
        for child in children:
            _walk(child, plain, html, attachments, depth + 1)
        return
    if _is_attachment(part) or not kind.startswith("text/"):
        attachments.append(_attachment(part, len(attachments)))
        return
    text = _text(part)
    (html if kind == "text/html" else plain).append(text)


def _is_attachment(part: RawMessage) -> bool:
    try:
        disposition = part.get_content_disposition()
        name = part.get_filename()
    except Exception:
        return False
    return disposition == "attachment" or bool(name)


def _attachment(part: RawMessage, index: int, forwarded: bool = False) -> Attachment:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _clean(_SPACE.sub(" ", name)).strip().replace("/", "_").replace("\\", "_")[:200]
    if forwarded:
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else None
        try:
            data = inner.as_bytes() if inner is not None else b""
        except Exception:
            data = b""
        return Attachment(name or f"forwarded-{index + 1}.eml", data)
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        data = b""
    return Attachment(name or f"attachment-{index + 1}", data)


def _text(part: RawMessage) -> str:
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        data = str(part.get_payload()).encode("utf-8", "replace")
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:
        charset = "utf-8"
    return decode(data, charset).replace("\r\n", "\n").replace("\r", "\n")


def decode(data: bytes, charset: str) -> str:
    """Text in the charset it says it is in; an unknown or wrong charset is read as UTF-8 if
    it is that, else as Windows-1252 (what mail programs mean by "latin-1" in practice)."""
    try:
        codec = codecs.lookup(charset).name
    except (LookupError, ValueError):
        codec = None
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, ValueError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


# Control characters (C0 and C1), bidirectional overrides and lone surrogates: never shown.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _clean(text: str) -> str:
    """Without the control characters and lone surrogates a broken message may carry."""
    return _CONTROL.sub("", text)


class _Text(HTMLParser):
    BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "pre",
            "table",
            "ul",
            "ol",
            "hr",
            "section",
            "article",
        ]
    )
    SKIPPED = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(_SPACE.sub(" ", data))


def html_to_text(html: str) -> str:
    """An HTML body as plain text: the words and their paragraphs, never markup."""
    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is a last guard
        return re.sub(r"<[^>]*>", " ", html)
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
