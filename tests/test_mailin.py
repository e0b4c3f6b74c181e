"""Mail into the log: addresses matched by keyed hash, every message sorted before anything is
written (new, already there, unmatched, unreadable), de-duplication by Message-ID and content,
all or nothing, and an undo for a day."""

import base64
import contextlib
import email.policy
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from uphold.attachments.models import Attachment
from uphold.attachments.services import read as read_attachment
from uphold.audit import services as audit
from uphold.mailin import parse, services
from uphold.mailin.models import Address, ImportedMessage, ImportState, MailImport, PreviewItem
from uphold.people.models import Person
from uphold.processes.models import Process
from uphold.record import health
from uphold.record.models import Direction, Entry
from uphold.record.services import EntryData, edit_entry

from .conftest import database_state
from .mail_tools import CONTACT, FRIEND, STRANGER, X, eml, mbox_bytes, message, thread


def raws(*files: bytes, chunk: int = 4096):
    """The messages of the files as the importer reads them: in chunks, numbered across."""
    number = 0
    for data in files:
        pieces = (data[i : i + chunk] for i in range(0, len(data), chunk))
        for raw in parse.split(pieces):
            number += 1
            raw.number = number
            yield raw


@pytest.fixture
def parties(as_member):
    """X's address, the contact member's, and a friend of X listed among the people."""
    with as_member("contact") as contact:
        services.add_address(contact, "kestrel", "x", X)
        services.add_address(contact, "kestrel", "member", CONTACT, member_id=contact.pk)
        friend = Person.objects.filter(process__code="kestrel").first()
        services.add_address(contact, "kestrel", "around", FRIEND, person_id=friend.pk)
    return friend


def _import(as_member, *files: bytes):
    with as_member("contact") as contact:
        summary = services.summarise(contact, "kestrel", raws(*files), None)
        batch = services.import_stream(contact, "kestrel", raws(*files), summary.counts)
    return summary, batch


def _entries(batch: MailImport) -> list[Entry]:
    return list(Entry.objects.filter(mail_message__batch=batch).order_by("occurred_on", "pk"))


# Addresses


def test_an_address_is_sealed_and_found_by_its_keyed_hash_only(as_member, parties):
    row = Address.objects.filter(process__code="kestrel", party="x").latest("pk")
    stored = bytes(Address.objects.filter(pk=row.pk).values_list("address", flat=True)[0])
    assert X.encode() not in stored and X not in row.digest
    with as_member("contact"):
        assert Address.objects.get(pk=row.pk).address == X
        key = services._key(row.process)
    assert services.address_digest(key, " X.Person@Example.ORG ") == row.digest


def test_an_address_listed_twice_or_not_an_address_is_refused(as_member, parties):
    before = database_state()
    with as_member("contact") as contact:
        for party, address in (("x", X.upper()), ("x", "not an address"), ("nobody", STRANGER)):
            with pytest.raises(ValidationError):
                services.add_address(contact, "kestrel", party, address)
        with pytest.raises(ValidationError):
            services.add_address(contact, "kestrel", "around", STRANGER, person_id=10**9)
    assert database_state() == before


def test_only_the_contact_group_keeps_the_addresses(as_member):
    for role in ("support", "survivor", "community", "respondent"):
        with as_member(role) as member, pytest.raises(PermissionDenied):
            services.add_address(member, "kestrel", "x", X)


# Sorting and importing


def test_each_message_becomes_an_entry_with_its_direction_and_contact_health_counts_it(
    as_member, parties
):
    mails = [
        eml(message(CONTACT, X, "Our demands", "Please answer by Friday.")),
        eml(message(X, CONTACT, "Re: Our demands", "I need more time.")),
        eml(message(FRIEND, CONTACT, "About him", "He told me.", message_id="<f@example.net>")),
        eml(message(CONTACT, f"{FRIEND}, {STRANGER}", "Thanks", "Thank you.")),
    ]
    before = health.tally_of(Process.objects.get(code="kestrel")).as_json()
    summary, batch = _import(as_member, mbox_bytes(mails))
    assert summary.counts == {"new": 4, "present": 0, "unmatched": 0, "unreadable": 0}
    entries = _entries(batch)
    assert [e.direction for e in entries] == [
        Direction.TO_X,
        Direction.FROM_X,
        Direction.FROM_CIRCLE,
        Direction.TO_CIRCLE,
    ]
    assert {e.channel for e in entries} == {"email"} and {e.kind for e in entries} == {"message"}
    with as_member("contact") as contact:
        assert entries[1].summary == "Re: Our demands"
        assert "I need more time." in entries[1].text and X in entries[1].text
        assert entries[0].by == contact and entries[1].by is None
    assert list(entries[2].around.all()) == [parties]
    after = health.tally_of(Process.objects.get(code="kestrel")).as_json()
    assert after != before
    assert not health.stored_differs(Process.objects.get(code="kestrel"))
    assert audit.verify(Process.objects.get(code="kestrel")) is None


def test_the_same_message_from_two_mailboxes_is_one_entry(as_member, parties):
    """The copy in the group's mailbox carries other Received and Status lines."""
    one = message(X, CONTACT, "My answer", "Here it is.")
    copy = EmailMessage(policy=email.policy.SMTP)
    for name, value in one.items():
        copy[name] = value
    copy["Received"] = "from mx.example.org by imap.example.org; Tue, 1 Mar 2022 09:31:00 +0000"
    copy["Status"] = "RO"
    copy.set_content("Here it is.")
    summary, batch = _import(as_member, eml(one), eml(copy))
    assert summary.counts["new"] == 1 and summary.counts["present"] == 1
    again, second = _import(as_member, mbox_bytes([eml(copy)]))
    assert again.counts == {"new": 0, "present": 1, "unmatched": 0, "unreadable": 0}
    assert again.listed[0].present == _entries(batch)[0].pk
    assert second.counts["imported"] == 0


def test_two_different_messages_sharing_a_message_id_both_stay(as_member, parties):
    shared = "<same@example.org>"
    first = eml(message(X, CONTACT, "First", "One text.", message_id=shared))
    second = eml(message(X, CONTACT, "Second", "Another text.", message_id=shared))
    summary, batch = _import(as_member, first, second)
    assert summary.counts["new"] == 2 and len(_entries(batch)) == 2


def test_a_message_matching_no_party_is_listed_and_never_imported_silently(as_member, parties):
    summary, batch = _import(as_member, eml(message(STRANGER, "other@elsewhere.example")))
    assert summary.counts["unmatched"] == 1 and _entries(batch) == []
    assert summary.listed[0].status == "unmatched"


def test_unreadable_messages_are_listed_with_why_and_the_rest_imported(as_member, parties):
    no_sender = b"To: x@example.org\nSubject: hi\nDate: Tue, 1 Mar 2022 09:30:00 +0000\n\nhi\n"
    no_date = eml(message(X, CONTACT)).replace(b"Date: ", b"X-Old-Date: ")
    files = [eml(message(X, CONTACT, "Fine")), no_sender, no_date, b"\x00\xff garbage"]
    summary, batch = _import(as_member, *files)
    assert summary.counts == {"new": 1, "present": 0, "unmatched": 0, "unreadable": 3}
    reasons = [s.reason for s in summary.listed]
    assert "It names no sender (no From line)." in reasons
    assert "It has no date Uphold can read (no Date line, or a broken one)." in reasons
    assert len(_entries(batch)) == 1


def test_a_thread_is_kept_together(as_member, parties):
    summary, batch = _import(as_member, mbox_bytes([eml(m) for m in thread(5)]))
    threads = set(ImportedMessage.objects.filter(batch=batch).values_list("thread", flat=True))
    assert summary.counts["new"] == 5 and len(threads) == 1


def test_an_import_that_no_longer_sorts_as_summarised_writes_nothing(as_member, parties):
    mails = mbox_bytes([eml(m) for m in thread(4)] + [eml(message(STRANGER, CONTACT))])
    with as_member("contact") as contact:
        summary = services.summarise(contact, "kestrel", raws(mails), None)
        services.add_address(contact, "kestrel", "x", STRANGER)  # the stranger is X's too
        before = database_state()
        with pytest.raises(services.Conflict):
            services.import_stream(contact, "kestrel", raws(mails), summary.counts)
    assert database_state() == before


# Undo


def test_an_import_is_undone_as_one_unit_within_a_day(as_member, parties):
    process = Process.objects.get(code="kestrel")
    before = health.tally_of(process).as_json()
    with_file = message(X, CONTACT, "With a file", "See attached.")
    with_file.add_attachment(
        b"%PDF-1.4 a letter", maintype="application", subtype="pdf", filename="letter.pdf"
    )
    _summary, batch = _import(as_member, mbox_bytes([eml(with_file), *map(eml, thread(3))]))
    assert Entry.objects.filter(mail_message__batch=batch).count() == 4
    with as_member("contact") as contact:
        assert services.undo(contact, "kestrel", batch.pk) == 4
    assert not Entry.objects.filter(mail_message__batch=batch).exists()
    assert (
        not Attachment.objects.filter(process=process, complete=True)
        .exclude(created_at__lt=batch.created_at)
        .exists()
    )
    assert health.tally_of(process).as_json() == before
    assert MailImport.objects.get(pk=batch.pk).state == ImportState.UNDONE
    assert audit.verify(process) is None


def test_an_import_older_than_a_day_or_worked_on_is_not_undone(as_member, parties):
    _summary, batch = _import(as_member, mbox_bytes([eml(m) for m in thread(2)]))
    later = timezone.now() + timedelta(days=1, minutes=1)
    with as_member("contact") as contact, pytest.raises(ValidationError, match="last day"):
        services.undo(contact, "kestrel", batch.pk, now=later)
    entry = _entries(batch)[0]
    with as_member("contact") as contact:
        data = EntryData(entry.occurred_on, entry.kind, "Renamed", entry.direction, "email")
        edit_entry(contact, "kestrel", entry.pk, data, base_revision=1)
        with pytest.raises(ValidationError, match="worked on since"):
            services.undo(contact, "kestrel", batch.pk)
    assert len(_entries(batch)) == 2


# Shapes of real mail


def test_a_30_mb_attachment_is_stored_sealed_and_reads_back_whole(as_member, parties):
    data = bytes(range(256)) * (30 * 1024 * 4)
    big = message(X, CONTACT, "The recording", "Attached.")
    big.add_attachment(data, maintype="audio", subtype="ogg", filename="talk.ogg")
    _summary, batch = _import(as_member, eml(big))
    [entry] = _entries(batch)
    [document] = entry.attachments.all()
    assert document.size == len(data) and document.complete
    with as_member("contact"):
        assert document.name == "talk.ogg"
        assert b"".join(read_attachment(document)) == data


def test_html_only_mail_is_read_as_text_never_as_markup():
    html = EmailMessage()
    html["From"], html["Date"] = X, "Tue, 1 Mar 2022 09:30:00 +0000"
    html.set_content(
        "<html><head><style>p{}</style><script>alert(1)</script></head><body>"
        "<p>I <b>never</b> said that.</p><ul><li>one</li></ul></body></html>",
        subtype="html",
    )
    read = parse.read(parse.Raw(1, eml(html)))
    assert read.body == "I never said that.\n\n- one"


@pytest.mark.parametrize(
    ("header", "body", "expected_subject", "expected_body"),
    [
        (  # RFC 2047, quoted-printable, Latin-1
            "Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=\nContent-Type: text/plain; "
            "charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n",
            b"Sch=F6ne Gr=FC=DFe,=\n und tsch=FCss",
            "Grüße aus Köln",
            "Schöne Grüße, und tschüss",
        ),
        (  # base64 UTF-8, a subject in base64 RFC 2047
            "Subject: =?utf-8?b?w5xiZXIgZGllIEZvcmRlcnVuZ2Vu?=\nContent-Type: text/plain; "
            "charset=utf-8\nContent-Transfer-Encoding: base64\n",
            base64.encodebytes("Über die Forderungen ✓".encode()),
            "Über die Forderungen",
            "Über die Forderungen ✓",
        ),
        (  # a charset nobody knows, holding Windows-1252 bytes
            "Subject: unknown\nContent-Type: text/plain; charset=x-no-such-charset\n",
            "Grüße \u2013 bis bald".encode("cp1252"),
            "unknown",
            "Grüße \u2013 bis bald",
        ),
        (  # says ASCII, holds UTF-8
            "Subject: liar\nContent-Type: text/plain; charset=us-ascii\n",
            "naïve".encode(),
            "liar",
            "naïve",
        ),
    ],
)
def test_encodings_and_charsets_are_read_right(header, body, expected_subject, expected_body):
    raw = (
        f"From: {X}\nTo: {CONTACT}\nDate: Tue, 1 Mar 2022 09:30:00 +0000\n"
        f"MIME-Version: 1.0\n{header}\n"
    ).encode() + body
    read = parse.read(parse.Raw(1, raw))
    assert read.subject == expected_subject
    assert read.body == expected_body


def test_multipart_alternative_takes_the_plain_part():
    both = message(X, CONTACT, "Both", "The plain words.")
    both.add_alternative("<p>The <i>rich</i> words.</p>", subtype="html")
    assert parse.read(parse.Raw(1, eml(both))).body == "The plain words."


def test_a_missing_date_falls_back_to_the_mbox_line_and_a_broken_one_is_unreadable():
    undated = eml(message(X, CONTACT)).replace(b"Date: ", b"X-Date: ")
    [raw] = parse.split([mbox_bytes([undated])])
    assert parse.read(raw).sent_at == datetime(2022, 3, 1, 9, 30, tzinfo=UTC)
    broken = eml(message(X, CONTACT)).replace(b"Date: Tue, 01 Mar 2022", b"Date: Tusday, 99 Mrz")
    with pytest.raises(parse.Unreadable):
        parse.read(parse.Raw(1, broken))


def test_a_missing_message_id_still_deduplicates_by_content(as_member, parties):
    bare = eml(message(X, CONTACT, "No id", "Text.", message_id=None))
    summary, _batch = _import(as_member, bare, bare)
    assert summary.counts["new"] == 1 and summary.counts["present"] == 1


def test_from_lines_in_a_body_survive_the_mbox_and_match_the_original():
    body = "Hello\nFrom the start I said so.\n>From a quote.\nbye"
    original = eml(message(X, CONTACT, "Froms", body))
    [raw] = parse.split([mbox_bytes([original])])
    assert parse.read(raw).body == parse.read(parse.Raw(1, original)).body == body


@pytest.mark.parametrize("chunk", [1, 5, 6, 7, 64, 4096])
def test_an_mbox_splits_the_same_whatever_the_chunks(chunk):
    mails = [eml(m) for m in thread(6)]
    found = list(raws(mbox_bytes(mails), chunk=chunk))
    whole = list(raws(mbox_bytes(mails), chunk=10**9))
    assert len(found) == 6 and [r.data for r in found] == [r.data for r in whole]


def test_a_message_larger_than_the_limit_is_skipped_unread(monkeypatch):
    monkeypatch.setattr(parse, "MAX_MESSAGE_BYTES", 1000)
    mails = [eml(message(X, CONTACT, "small")), eml(message(X, CONTACT, "big", "x" * 5000))]
    found = list(raws(mbox_bytes(mails), chunk=100))
    assert [r.data is None for r in found] == [False, True]
    with pytest.raises(parse.Unreadable, match="larger than"):
        parse.read(found[1])


# The command line


def test_the_command_shows_the_summary_then_imports_with_a_progress_bar(
    accounts, parties, tmp_path, monkeypatch
):
    path = tmp_path / "exchange.mbox"
    path.write_bytes(mbox_bytes([eml(m) for m in thread(30)] + [eml(message(STRANGER, CONTACT))]))
    monkeypatch.setenv("UPHOLD_PASSWORD", accounts["contact"]["password"])
    out, err = io.StringIO(), io.StringIO()
    user = accounts["contact"]["username"]
    call_command(
        "mail-import", "kestrel", str(path), "--user", user, "--yes", stdout=out, stderr=err
    )
    said = out.getvalue()
    assert "30 new, 0 already in the log, 1 matching no party (left out), 0 unreadable." in said
    assert "31: matches no party:" in said and STRANGER in said
    assert "30 messages are in the log of kestrel now." in said
    assert "100% · 20 messages" in err.getvalue()
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    assert batch.source == "command" and len(_entries(batch)) == 30
    again = io.StringIO()
    call_command("mail-import", "kestrel", str(path), "--user", user, "--yes", stdout=again)
    assert "0 new, 30 already in the log" in again.getvalue()
    assert "Nothing new to import." in again.getvalue()


def test_the_command_without_a_terminal_asks_for_yes_and_imports_nothing(
    accounts, parties, tmp_path, monkeypatch
):
    path = tmp_path / "one.eml"
    path.write_bytes(eml(message(X, CONTACT)))
    monkeypatch.setenv("UPHOLD_PASSWORD", accounts["contact"]["password"])
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    before = database_state()
    with pytest.raises(CommandError, match="Add --yes"):
        call_command(
            "mail-import",
            "kestrel",
            str(path),
            "--user",
            accounts["contact"]["username"],
            stdout=io.StringIO(),
        )
    assert database_state() == before


# The web


@dataclass
class Read:
    """What the upload's page said as it read the files, and the summary it led to."""

    page: str
    url: str


def _upload(client, *files: tuple[str, bytes]) -> Read:
    answer = client.post(
        "/p/kestrel/mail/",
        {"files": [SimpleUploadedFile(name, data) for name, data in files]},
    )
    assert answer.status_code == 200 and answer.streaming
    page = b"".join(answer.streaming_content).decode()
    found = re.search(r'href="(/p/kestrel/mail/imports/\d+/)"', page)
    assert found, page
    return Read(page, found[1])


def test_upload_summary_choice_confirm_and_undo_on_the_web(client_for, parties):
    client = client_for("contact")
    mails = mbox_bytes(
        [eml(m) for m in thread(3)] + [eml(message(STRANGER, CONTACT, "Who is this"))]
    )
    answer = _upload(client, ("takeout.mbox", mails), ("one.eml", eml(message(X, CONTACT, "Solo"))))
    assert "Read 5 messages. Nothing is in the log yet: read the summary." in answer.page
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    assert batch.counts == {"new": 4, "present": 0, "unmatched": 1, "unreadable": 0}
    page = client.get(answer.url).content.decode()
    assert "Who is this" in page and STRANGER in page and "Import 4 messages" in page
    assert not Entry.objects.filter(mail_message__batch=batch).exists()
    choose = client.post(f"{answer.url}choose/", {"number": 4, "choice": "from_x"})
    assert choose.status_code == 302
    assert "Import 5 messages" in client.get(answer.url).content.decode()
    done = client.post(f"{answer.url}confirm/")
    assert done.status_code == 302
    entries = _entries(MailImport.objects.get(pk=batch.pk))
    assert len(entries) == 5 and Direction.FROM_X in {e.direction for e in entries}
    assert not Attachment.objects.filter(pk__in=batch.files).exists()  # the files are gone
    undone = client.post(f"{answer.url}undo/")
    assert undone.status_code == 302 and _entries(batch) == []


def test_a_bad_choice_and_an_upload_without_files_are_refused_and_change_nothing(
    client_for, parties
):
    client = client_for("contact")
    answer = _upload(client, ("a.eml", eml(message(STRANGER, CONTACT))))
    before = database_state()
    for choice in ("sideways", "from_circle:999999", "from_x:3"):
        refused = client.post(f"{answer.url}choose/", {"number": 1, "choice": choice})
        assert refused.status_code == 400
        assert "Choose from the list what this message is." in refused.content.decode()
    refused = client.post(f"{answer.url}choose/", {"number": "x", "choice": "from_x"})
    assert refused.status_code == 400
    nothing = client.post("/p/kestrel/mail/", {})
    assert nothing.status_code == 400
    assert "Choose one or more mail files" in nothing.content.decode()
    assert database_state() == before


def test_only_the_member_who_uploaded_confirms_and_another_member_cannot(
    client_for, parties, as_member
):
    client = client_for("contact")
    answer = _upload(client, ("a.eml", eml(message(X, CONTACT))))
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    with as_member("support") as support, pytest.raises(PermissionDenied):
        services.confirm(support, "kestrel", batch.pk)
    assert client.get(answer.url).status_code == 200


def test_the_mail_page_reads_in_german(client_for, parties):
    client = client_for("contact", headers={"accept-language": "de"})
    page = client.get("/p/kestrel/mail/").content.decode()
    assert "E-Mails hochladen" in page


# A public corpus of real messages (tests/mail_corpus/README.md)

CORPUS = sorted((Path(__file__).parent / "mail_corpus" / "cpython").glob("msg_*.txt"))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_message_of_the_corpus_is_read_or_refused_with_a_reason(path):
    [raw] = parse.split([path.read_bytes()])
    try:
        read = parse.read(raw)
    except parse.Unreadable as unreadable:
        assert str(unreadable).strip()
        return
    assert read.senders and "@" in read.senders[0]
    assert "<" not in read.body or "text/html" not in path.read_text(errors="replace").lower()
    read.canonical()


def test_the_corpus_as_one_mbox_imports_what_its_summary_says(as_member, tmp_path):
    """With every sender of the corpus listed as someone X wrote to (so nothing is left
    unmatched for lack of an address), all of it goes in at once."""
    mbox = mbox_bytes([p.read_bytes() for p in CORPUS])
    senders = set()
    for raw in parse.split([mbox]):
        with contextlib.suppress(parse.Unreadable):
            senders.update(parse.read(raw).senders)
    with as_member("contact") as contact:
        for address in sorted(senders):
            services.add_address(contact, "kestrel", "x", address)
    summary, batch = _import(as_member, mbox)
    assert sum(summary.counts.values()) == len(CORPUS)
    assert summary.counts["new"] >= len(CORPUS) // 2
    assert batch.counts["imported"] == summary.counts["new"] == len(_entries(batch))
    forwarded = [e for e in _entries(batch) if e.attachments.exists()]
    assert forwarded, "the corpus's attachments and forwarded messages are kept as documents"


def test_a_summary_nobody_confirms_is_removed_after_a_day_with_its_files(client_for, parties):
    client = client_for("contact")
    answer = _upload(client, ("a.eml", eml(message(X, CONTACT))))
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    assert services.remove_stale_previews() == 0
    removed = services.remove_stale_previews(now=timezone.now() + timedelta(days=1, minutes=1))
    assert removed >= 1 and not MailImport.objects.filter(pk=batch.pk).exists()
    assert not Attachment.objects.filter(pk__in=batch.files).exists()
    assert client.get(answer.url).status_code == 404


def test_an_entry_shows_the_other_messages_of_its_thread(client_for, as_member, parties):
    _summary, batch = _import(as_member, mbox_bytes([eml(m) for m in thread(3)]))
    first, second, third = _entries(batch)
    page = client_for("contact").get(f"/p/kestrel/log/{second.pk}/").content.decode()
    assert "The same email thread" in page
    assert f"/p/kestrel/log/{first.pk}/" in page and f"/p/kestrel/log/{third.pk}/" in page


def test_a_long_upload_says_how_far_it_is_as_it_reads(client_for, parties, monkeypatch):
    monkeypatch.setattr(services, "SHOW_EVERY", 2)
    answer = _upload(client_for("contact"), ("a.mbox", mbox_bytes([eml(m) for m in thread(5)])))
    assert answer.page.index("Read 2 messages.") < answer.page.index("Read 4 messages.")
    assert "Read 5 messages. Nothing is in the log yet" in answer.page


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_summary_and_mail_pages_cost_the_same_queries_at_10_and_300_messages(
    client_for, parties
):
    client = client_for("contact")
    counts = []
    for size in (10, 300):
        mails = [eml(message(STRANGER, CONTACT, f"Unmatched {n}")) for n in range(size)]
        answer = _upload(client, (f"{size}.mbox", mbox_bytes(mails)))
        _queries(client, answer.url)  # the first view of a page opens the keys
        counts.append((_queries(client, answer.url), _queries(client, "/p/kestrel/mail/")))
    assert counts[0] == counts[1]


# A database writer (tests/conftest.py: "tampers" tests alter rows behind Uphold's back)


@pytest.mark.tampers
def test_undo_refuses_an_index_repointed_at_another_entry(as_member, parties):
    _summary, batch = _import(as_member, mbox_bytes([eml(m) for m in thread(2)]))
    victim = (
        Entry.objects.filter(process__code="kestrel").exclude(mail_message__isnull=False).first()
    )
    row = ImportedMessage.objects.filter(batch=batch).first()
    ImportedMessage.objects.filter(pk=row.pk).update(entry=victim)
    with as_member("contact") as contact, pytest.raises(services.Tampered):
        services.undo(contact, "kestrel", batch.pk)
    assert Entry.objects.filter(pk=victim.pk).exists() and len(_entries(batch)) == 2


def test_undo_refuses_once_a_document_was_attached_to_an_imported_entry(as_member, parties):
    from uphold.attachments.services import Writer
    from uphold.record.services import attach

    _summary, batch = _import(as_member, mbox_bytes([eml(m) for m in thread(2)]))
    entry = _entries(batch)[0]
    with as_member("contact") as contact:
        writer = Writer(contact, "kestrel", "record", "notes.txt")
        writer.write(b"the group's own notes")
        attach(contact, "kestrel", entry.pk, writer.finish())
        with pytest.raises(ValidationError, match="worked on since"):
            services.undo(contact, "kestrel", batch.pk)
    assert len(_entries(batch)) == 2


@pytest.mark.tampers
def test_a_choice_moved_to_another_message_counts_for_none(client_for, parties):
    client = client_for("contact")
    mails = [eml(message(STRANGER, CONTACT, f"Private {n}")) for n in "AB"]
    answer = _upload(client, ("two.mbox", mbox_bytes(mails)))
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    client.post(f"{answer.url}choose/", {"number": 1, "choice": "from_x"})
    first, second = PreviewItem.objects.filter(batch=batch).order_by("number")
    PreviewItem.objects.filter(pk=first.pk).update(number=99)
    PreviewItem.objects.filter(pk=second.pk).update(number=1)
    PreviewItem.objects.filter(pk=first.pk).update(number=2)
    assert client.post(f"{answer.url}confirm/").status_code == 302
    assert _entries(MailImport.objects.get(pk=batch.pk)) == []


@pytest.mark.tampers
def test_a_summary_whose_files_were_swapped_is_not_confirmed(client_for, parties):
    client = client_for("contact")
    answer = _upload(
        client, ("a.eml", eml(message(X, CONTACT, "A"))), ("b.eml", eml(message(X, CONTACT, "B")))
    )
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    MailImport.objects.filter(pk=batch.pk).update(files=list(reversed(batch.files)))
    refused = client.post(f"{answer.url}confirm/")
    assert refused.status_code == 400 and _entries(batch) == []


@pytest.mark.tampers
def test_an_address_whose_party_was_changed_stops_the_import(as_member, parties):
    Address.objects.filter(process__code="kestrel", party="member").update(party="x")
    with as_member("contact") as contact, pytest.raises(services.Tampered):
        services.summarise(contact, "kestrel", parse.split([eml(message(X, CONTACT))]), None)


def test_a_message_with_too_many_parts_or_addresses_stays_bounded():
    many = ", ".join(f"p{n}@example.org" for n in range(5000))
    read = parse.read(
        parse.Raw(
            1, f"From: {X}\nTo: {many}\nDate: Tue, 1 Mar 2022 09:30:00 +0000\n\nhi\n".encode()
        )
    )
    assert len(read.recipients) == parse.MAX_ADDRESSES
    parts = b"".join(b"--b\nContent-Type: text/plain\n\nx\n" for _ in range(3000))
    bomb = (
        b"From: x@example.org\nDate: Tue, 1 Mar 2022 09:30:00 +0000\nContent-Type: multipart/mixed; boundary=b\n\n"
        + parts
        + b"--b--\n"
    )
    with pytest.raises(parse.Unreadable, match="more than 500 parts"):
        parse.read(parse.Raw(1, bomb))


def test_control_and_direction_characters_never_reach_a_label():
    sneaky = eml(message(X, CONTACT, "Harmless\u202etxt.exe", "x")).replace(
        b"Harmless", b"Harm\xc2\x9bless"
    )
    subject = parse.read(parse.Raw(1, sneaky)).subject
    assert "\u202e" not in subject and "\x9b" not in subject


def test_a_file_sent_under_another_field_is_not_kept(client_for, parties):
    client = client_for("contact")
    answer = client.post(
        "/p/kestrel/mail/",
        {
            "files": [SimpleUploadedFile("a.eml", eml(message(X, CONTACT)))],
            "other": SimpleUploadedFile("b.eml", eml(message(X, CONTACT))),
        },
    )
    b"".join(answer.streaming_content)
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    left = Attachment.objects.filter(process__code="kestrel", complete=False)
    assert sorted(str(a.pk) for a in left) == sorted(batch.files) and len(batch.files) == 1
