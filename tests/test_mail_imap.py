"""Fetching mail over IMAP from a real Dovecot: only the parties' messages are taken, the
folder is only read, a message fetched or uploaded before is recognised, the dates choose, and
a server that refuses says so and leaves nothing behind. The page streams its progress."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from uphold.attachments.models import Attachment
from uphold.mailin import imap, parse, services
from uphold.mailin.models import ImapAccount, ImportState, MailImport

from . import imap_server
from .conftest import database_state, with_token
from .mail_tools import CONTACT, FRIEND, STRANGER, X, eml, mbox_bytes, message, thread


@pytest.fixture(scope="module")
def dovecot():
    process, server, root = imap_server.start()
    yield server
    imap_server.stop(process)
    imap_server.remove(root)


@pytest.fixture
def folder(dovecot, request):
    """A folder of its own for each test, holding the exchange with X, a message from a
    friend of his, one from a stranger, and one from X in 2019."""
    name = f"t{abs(hash(request.node.nodeid)) % 10**8}"
    dovecot.fill(
        name,
        [eml(m) for m in thread(4)]
        + [
            eml(message(FRIEND, CONTACT, "About him", "He told me.")),
            eml(message(STRANGER, CONTACT, "Newsletter", "Buy now.")),
            eml(message(X, CONTACT, "Old", "From 2019.", sent=datetime(2019, 5, 1, tzinfo=UTC))),
        ],
    )
    return name


@pytest.fixture
def mailbox(as_member, dovecot, folder):
    with as_member("contact") as contact:
        services.add_address(contact, "kestrel", "x", X)
        friend = services.addresses_of(contact, "kestrel").people[0]
        services.add_address(contact, "kestrel", "around", FRIEND, person_id=friend.pk)
        return imap.add_account(
            contact,
            "kestrel",
            imap.Details(
                "127.0.0.1", dovecot.port, "none", imap_server.USER, imap_server.PASSWORD, folder
            ),
        )


def _fetch(as_member, account, **choices) -> list[imap.Step]:
    with as_member("contact") as contact:
        job = imap.prepare(contact, "kestrel", account.pk, **choices)
        return list(imap.run(job))


def test_only_the_parties_messages_are_fetched_and_summarised(as_member, mailbox, dovecot, folder):
    steps = _fetch(as_member, mailbox)
    batch = steps[-1].batch
    assert batch is not None and batch.source == "imap" and batch.state == ImportState.PREVIEW
    assert batch.counts == {"new": 6, "present": 0, "unmatched": 0, "unreadable": 0}
    assert "7 messages in" in steps[1].text  # the stranger's was looked at, not fetched
    # Read only: the messages are still unseen on the server.
    connection = dovecot.connect()
    connection.select(f'"{folder}"', readonly=True)
    assert connection.search(None, "UNSEEN")[1][0].split().__len__() == 7
    connection.logout()


def test_the_dates_choose_the_messages(as_member, mailbox):
    steps = _fetch(as_member, mailbox, since=date(2019, 1, 1), before=date(2020, 1, 1))
    assert steps[-1].batch.counts["new"] == 1


def test_a_message_uploaded_before_is_recognised_when_fetched(as_member, mailbox, dovecot, folder):
    connection = dovecot.connect()
    connection.select(f'"{folder}"', readonly=True)
    _status, data = connection.fetch(b"1:3", "(BODY.PEEK[])")
    connection.logout()
    uploaded = [part[1] for part in data if isinstance(part, tuple)]
    with as_member("contact") as contact:
        mbox = mbox_bytes(uploaded)
        summary = services.summarise(contact, "kestrel", parse.split([mbox]), None)
        services.import_stream(contact, "kestrel", parse.split([mbox]), summary.counts)
    batch = _fetch(as_member, mailbox)[-1].batch
    assert batch.counts == {"new": 3, "present": 3, "unmatched": 0, "unreadable": 0}
    with as_member("contact") as contact:
        done = services.confirm(contact, "kestrel", batch.pk)
    assert done.counts["imported"] == 3
    again = _fetch(as_member, mailbox)[-1].batch
    assert again.counts == {"new": 0, "present": 6, "unmatched": 0, "unreadable": 0}


def test_a_wrong_password_or_folder_or_port_says_so_and_stores_nothing(as_member, mailbox, dovecot):
    before = database_state()
    for change, says in (
        ({"password": "wrong"}, "refused the login"),
        ({"folder": "NoSuchFolder"}, "has no folder NoSuchFolder"),
        ({"port": imap_server._free_port()}, "Could not connect"),
    ):
        with as_member("contact") as contact:
            account = ImapAccount.objects.get(pk=mailbox.pk)
            for name, value in change.items():
                setattr(account, name, value)
            job = imap.Fetch(contact, account.process, account, change.get("folder", account.folder),
                             None, None)  # fmt: skip
            steps = list(imap.run(job))
        assert steps[-1].failed and says in steps[-1].text, steps[-1].text
        assert "Nothing was stored." in steps[-1].text
        assert database_state() == before
    assert not Attachment.objects.filter(complete=False).exists()


def test_bad_details_and_dates_are_refused_before_connecting(as_member, mailbox):
    with as_member("contact") as contact:
        with pytest.raises(ValidationError):
            imap.add_account(contact, "kestrel", imap.Details("not a host", 0, "tls", "", "", ""))
        with pytest.raises(ValidationError):
            imap.prepare(
                contact, "kestrel", mailbox.pk, since=date(2022, 1, 2), before=date(2022, 1, 1)
            )


def test_the_mailbox_details_are_sealed(mailbox):
    stored = ImapAccount.objects.filter(pk=mailbox.pk).values("host", "username", "password").get()
    for value in stored.values():
        assert imap_server.PASSWORD.encode() not in bytes(value) and b"member" not in bytes(value)


def test_fetch_now_streams_its_progress_and_leads_to_the_summary(client_for, mailbox):
    client = client_for("contact")
    answer = client.post(f"/p/kestrel/mail/imap/{mailbox.pk}/fetch/", {"folder": ""})
    assert answer.status_code == 200 and answer.streaming
    page = b"".join(answer.streaming_content).decode()
    assert "Connected to 127.0.0.1." in page and "Fetched 6 of 6." in page
    batch = MailImport.objects.filter(process__code="kestrel").latest("pk")
    assert f"/p/kestrel/mail/imports/{batch.pk}/" in page and "Read the summary" in page
    refused = client.post(f"/p/kestrel/mail/imap/{mailbox.pk}/fetch/", {"since": "someday"})
    assert refused.status_code == 400 and "Enter a valid date." in refused.content.decode()


def test_a_mailbox_is_added_and_removed_on_the_web(client_for, dovecot):
    client = client_for("contact")
    form = {"host": "imap.example.org", "port": 993, "security": "ssl", "username": "u",
            "password": "p", "folder": "INBOX"}  # fmt: skip
    assert client.post("/p/kestrel/mail/imap/", with_token(form)).status_code == 302
    account = ImapAccount.objects.latest("pk")
    assert "imap.example.org" in client.get("/p/kestrel/mail/").content.decode()
    assert client.post(f"/p/kestrel/mail/imap/{account.pk}/remove/").status_code == 302
    assert not ImapAccount.objects.filter(pk=account.pk).exists()
    refused = client.post("/p/kestrel/mail/imap/", with_token(form | {"port": 0}))
    assert refused.status_code == 400


@pytest.mark.tampers
def test_a_mailbox_whose_encryption_was_switched_off_behind_uphold_is_not_used(
    as_member, dovecot, folder
):
    with as_member("contact") as contact:
        account = imap.add_account(
            contact, "kestrel",
            imap.Details("127.0.0.1", dovecot.port, "starttls", "u", "p", folder),
        )  # fmt: skip
    ImapAccount.objects.filter(pk=account.pk).update(security="none")
    with as_member("contact") as contact, pytest.raises(services.Tampered):
        imap.prepare(contact, "kestrel", account.pk)


def test_a_password_with_umlauts_or_a_line_break_and_no_encryption_far_away_are_refused(
    as_member,
):
    with as_member("contact") as contact:
        for details in (
            imap.Details("imap.example.org", 993, "ssl", "u", "geheim-Schlüssel", "INBOX"),
            imap.Details("imap.example.org", 993, "ssl", "u\r\nA1 LOGOUT", "p", "INBOX"),
            imap.Details("imap.example.org", 993, "ssl", "u", "p", "Entwürfe"),
            imap.Details("imap.example.org", 143, "none", "u", "p", "INBOX"),
        ):
            with pytest.raises(ValidationError):
                imap.add_account(contact, "kestrel", details)
