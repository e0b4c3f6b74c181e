"""The mail parser under arbitrary input (hypothesis): whatever the bytes, each message is read
or refused with a reason, never a crash; and an import of fuzzed files writes exactly the
messages its summary called new, or nothing.

The cases are derandomised: the same 10,000 (and 150 imports) on every run, so a failure here
is reproducible, not luck."""

from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uphold.mailin import parse, services
from uphold.record.models import Entry

from .mail_tools import CONTACT, X, eml, mbox_bytes, message

CORPUS = Path(__file__).parent / "mail_corpus" / "cpython"
HEADERS = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "References", "In-Reply-To",
           "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version",
           "Received", "X-Other"]  # fmt: skip
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "x-unknown", "utf-7", "gb2312",
            "", "utf-8\"; x=\"", "us-ascii"]  # fmt: skip
CONTENT_TYPES = ["text/plain", "text/html", "multipart/alternative", "multipart/mixed",
                 "message/rfc822", "application/octet-stream", "image/png", "text/x-weird",
                 "multipart/mixed; boundary=\"b\"", "multipart/alternative; boundary="]  # fmt: skip
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus"]
PIECES = st.sampled_from(
    [
        "=?utf-8?b?w5xiZXI=?=", "=?iso-8859-1?q?Gr=FC=DFe?=", "=?bogus?x?zz?=", "=?utf-8?q?",
        "<a@b>", "a@b, c@d", "\"Name, with\" <x@y.z>", "Tue, 1 Mar 2022 09:30:00 +0000",
        "31 Feb 99999 99:99", "boundary=\"b\"", "--b", "--b--", "\r\n", "\n\n", "\t", ";",
        "From ", ">From ", "\x00", "\udcff", "é", "✓", "=\n", "==", "AAAA", "%%%",
    ]
)  # fmt: skip
# Pieces of what mail carries, and some plain and odd words; cheap to draw, so that 10,000
# cases fit in the suite's time.
WORDS = st.sampled_from(["hello", "Grüße", "a b c", "x" * 100, "\u202e", "ü" * 3, "日本"])
TEXT = st.lists(st.one_of(PIECES, WORDS), max_size=6).map("".join)
NAMES = st.sampled_from([*HEADERS, "Bad Name", "X-\udcff", "From ", "from", "DATE"])


@st.composite
def header_block(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(NAMES)
        value = draw(TEXT)
        if name == "Content-Type" and draw(st.booleans()):
            value = (
                f"{draw(st.sampled_from(CONTENT_TYPES))}; charset={draw(st.sampled_from(CHARSETS))}"
            )
        if name == "Content-Transfer-Encoding":
            value = draw(st.sampled_from(ENCODINGS))
        lines.append(f"{name}: {value}")
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    return "\n".join(lines).encode(
        encoding, "surrogateescape" if encoding == "utf-8" else "replace"
    )


@st.composite
def messages(draw) -> bytes:
    """Made-up headers and bodies, multiparts with or without their boundaries, random bytes,
    and real messages cut short or with bytes changed."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=300))
    if kind == 1:
        body = draw(
            st.one_of(st.binary(max_size=200), TEXT.map(lambda t: t.encode("utf-8", "replace")))
        )
        return draw(header_block()) + b"\n\n" + body
    if kind == 2:
        parts = b"".join(
            b"--b\n" + draw(header_block()) + b"\n\n" + draw(st.binary(max_size=80)) + b"\n"
            for _ in range(draw(st.integers(0, 4)))
        )
        closing = draw(st.sampled_from([b"--b--\n", b"", b"--b"]))
        head = b"From: x@example.org\nDate: Tue, 1 Mar 2022 09:30:00 +0000\n"
        return head + b"Content-Type: multipart/mixed; boundary=b\n\n" + parts + closing
    real = _real(draw(st.integers(0, len(REAL) - 1)))
    cut = draw(st.integers(0, len(real)))
    flips = draw(
        st.lists(st.tuples(st.integers(0, max(0, cut - 1)), st.integers(0, 255)), max_size=5)
    )
    changed = bytearray(real[:cut])
    for at, value in flips:
        if changed:
            changed[at % len(changed)] = value
    return bytes(changed)


def _alternative() -> EmailMessage:
    made = message(X, CONTACT, "Grüße", "Plain text.")
    made.add_alternative("<p>Rich <b>text</b></p>", subtype="html")
    made.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="p.png")
    return made


def _forwarded() -> EmailMessage:
    made = message(CONTACT, X, "Fwd", "See below.")
    made.add_attachment(message(X, CONTACT, "Inner", "Inner text."))
    return made


# Built once, outside the strategies (a Message-ID is random).
REAL = [
    eml(m) for m in (_alternative(), _forwarded(), message(X, CONTACT, "Re: =?x?", "From\n>From"))
]
# And messages of the public corpus (tests/mail_corpus/README.md), cut and changed too.
REAL += [p.read_bytes() for p in sorted(CORPUS.glob("msg_*.txt"))]
FROM_X = eml(message(X, CONTACT))


def _real(index: int) -> bytes:
    return REAL[index]


def _read_all(data: bytes, chunk: int) -> list:
    pieces = (data[i : i + chunk] for i in range(0, len(data), chunk))
    results = []
    for raw in parse.split(pieces):
        try:
            results.append(parse.read(raw))
        except parse.Unreadable as unreadable:
            assert str(unreadable).strip(), "a refusal must say why"
            results.append(None)
    return results


@settings(
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(messages(), min_size=1, max_size=3), st.integers(1, 600), st.booleans())
def test_any_bytes_are_read_or_refused_with_a_reason_never_a_crash(found, chunk, as_mbox):
    data = mbox_bytes(found) if as_mbox else found[0]
    results = _read_all(data, chunk)
    for read in results:
        if read is not None:
            assert read.senders and read.sent_at.tzinfo is not None
            assert isinstance(read.body, str) and isinstance(read.subject, str)
            read.canonical()  # what de-duplication hashes must always be computable
    if as_mbox:  # however the bytes fall in chunks, the same messages come out
        assert len(results) == len(_read_all(data, 10**9))


@pytest.fixture
def x_listed(as_member):
    with as_member("contact") as contact:
        services.add_address(contact, "kestrel", "x", X)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(found=st.lists(st.one_of(messages(), st.just(FROM_X)), min_size=1, max_size=4))
def test_an_import_of_fuzzed_mail_writes_what_its_summary_said_or_nothing(
    found, as_member, x_listed
):
    data = mbox_bytes(found)
    with as_member("contact") as contact:
        before = Entry.objects.filter(process__code="kestrel").count()
        summary = services.summarise(contact, "kestrel", parse.split([data]), None)
        batch = services.import_stream(contact, "kestrel", parse.split([data]), summary.counts)
        assert sum(summary.counts.values()) == len(_read_all(data, 10**9))
        assert batch.counts["imported"] == summary.counts["new"]
        assert (
            Entry.objects.filter(process__code="kestrel").count() == before + summary.counts["new"]
        )
        services.undo(contact, "kestrel", batch.pk)  # the next case starts from the same log
