"""Mail as the tests and the benchmark need it: messages in the shapes real mail programs send,
and mbox files written the way mutt and Thunderbird write them ("From " lines escaped)."""

import email.policy
import mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

X = "x.person@example.org"
CONTACT = "contact.member@example.org"
FRIEND = "friend.of.x@example.net"
STRANGER = "someone@elsewhere.example"


def message(
    sender: str = X,
    to: str = CONTACT,
    subject: str = "About the meeting",
    body: str = "I cannot come on Tuesday.",
    *,
    sent: datetime | None = None,
    message_id: str | None = "",
    extra: dict[str, str] | None = None,
) -> EmailMessage:
    made = EmailMessage(policy=email.policy.SMTP)
    made["From"] = sender
    made["To"] = to
    made["Subject"] = subject
    made["Date"] = format_datetime(sent or datetime(2022, 3, 1, 9, 30, tzinfo=UTC))
    if message_id is not None:
        made["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in (extra or {}).items():
        made[name] = value
    made.set_content(body)
    return made


def eml(made: EmailMessage) -> bytes:
    return made.as_bytes(policy=email.policy.SMTP)


def mbox_bytes(messages: list[bytes]) -> bytes:
    """An mboxrd file: each message after a "From " line, body lines starting "From " (or
    ">From ") given one more ">", a blank line after each."""
    out = bytearray()
    for raw in messages:
        out += b"From MAILER-DAEMON Tue Mar  1 09:30:00 2022\n"
        for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
            stripped = line.lstrip(b">")
            if stripped.startswith(b"From "):
                line = b">" + line
            out += line + b"\n"
        out += b"\n"
    return bytes(out)


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    path.write_bytes(mbox_bytes(messages))
    return path


def python_mbox_count(path: Path) -> int:
    """How many messages Python's own mailbox module finds in the file (the reference)."""
    return sum(1 for _ in mailbox.mbox(str(path), create=False))


def thread(count: int, start: datetime | None = None) -> list[EmailMessage]:
    """An exchange between the contact group and X, one message a week, answering each other."""
    start = start or datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
    made, previous = [], None
    for n in range(count):
        sender, to = (CONTACT, X) if n % 2 == 0 else (X, CONTACT)
        one = message(
            sender,
            to,
            f"Re: the demands ({n + 1})",
            f"Message {n + 1} of the exchange.\nFrom now on we write weekly.",
            sent=start + timedelta(days=7 * n),
        )
        if previous is not None:
            one["In-Reply-To"] = previous["Message-ID"]
            one["References"] = previous["Message-ID"]
        made.append(one)
        previous = one
    return made
