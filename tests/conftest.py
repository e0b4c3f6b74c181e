"""Shared fixtures: a process `kestrel` with one member per role, built through the services,
an outsider who belongs to another process `heron`, and a site admin."""

import copy
import hashlib
import re
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from uphold.accounts.models import User
from uphold.accounts.services import REAUTH_AT, acting_as, totp_code
from uphold.crypto import sessions as crypto_sessions
from uphold.crypto.services import unlock
from uphold.lib.middleware import LOGIN_AT
from uphold.processes.models import Role
from uphold.processes.sample import build_process, make_account
from uphold.processes.services import Setup
from uphold.web import once

from .snapshot import RESTORING, Snapshot

ROLES = ["anonymous", "admin", *Role.values, "outsider"]
# Every sensitive field the fixtures fill starts with this, then names the field it is in.
MARK = "MARKER-7f3a-"


@pytest.fixture(scope="session")
def _built_accounts(django_db_setup, django_db_blocker) -> tuple[dict, "Snapshot"]:
    """The fixture below, built once per test worker through the services, in a transaction
    rolled back at once; its rows are kept to be put back for each test that asks for it."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        snapshot = Snapshot.before()
        made = _build_accounts()
        assert _chain_problems() == ([], [])
        snapshot.take()
        transaction.set_rollback(True)
    return made, snapshot


@pytest.fixture
def accounts(db, _built_accounts) -> dict[str, dict]:
    """username, password and TOTP key per role; every one of them really exists.

    The rows are the ones the services wrote when the worker built them, put back as they
    were (same ids, same ciphertext, same audit chain); each test's rollback takes them away.
    """
    made, snapshot = _built_accounts
    snapshot.restore()
    return copy.deepcopy(made)


def _build_accounts() -> dict[str, dict]:
    made = {"admin": make_account("admin", site_admin=True)}
    order = [Role.SUPPORT, *(r for r in Role.values if r != Role.SUPPORT)]
    setup = Setup(
        title=MARK + "processes.process.title",
        survivor_term=MARK + "processes.process.survivor_term",
        respondent_term=MARK + "processes.process.respondent_term",
        groups=[("support", MARK + "processes.processgroup.place", "Europe/Berlin")],
    )
    for account in build_process("kestrel", [(r, r) for r in order], setup=setup):
        made[account["role"]] = account
    for account in build_process("heron", [("outsider", Role.SUPPORT)]):
        made["outsider"] = account
    _fill_marked_content(made["support"], made["contact"], made["respondent"])
    return made


def _acting(account: dict):
    """The account's user and a keyring opened with its password."""
    from uphold.crypto.keyring import Keyring

    user = acting_as(User.objects.get(username=account["username"]))
    return user, Keyring(user.pk, unlock(user, account["password"]))


def _fill_marked_content(
    support_account: dict, contact_account: dict, respondent_account: dict
) -> None:
    """One of every encrypted thing in kestrel, each holding a marker naming its field."""
    from uphold.attachments.services import Writer
    from uphold.crypto.keyring import using
    from uphold.demands import services as demands

    def marked(label: str) -> str:
        return MARK + label

    support, support_ring = _acting(support_account)
    contact, contact_ring = _acting(contact_account)
    with using(support_ring):
        for scope, action in (("record", "documents.upload"), ("shared", "letter.edit")):
            writer = Writer(
                support, "kestrel", scope, marked("attachments.attachment.name"), action
            )
            writer.write(marked("attachments.attachmentchunk.data").encode())
            writer.finish()
        demands.save_letter(support, "kestrel", marked("demands.letter.text"), base_revision=0)
        # Marked as sent: the version holds the same text and recipients as the letter.
        demands.mark_sent(
            support,
            "kestrel",
            revision=1,
            handed_over_on=timezone.localdate(),
            handed_to=marked("demands.letter.handed_to"),
        )
        demands.add_demand(
            support,
            "kestrel",
            marked("demands.demand.wording"),
            "",
            marked("demands.demand.criteria"),
        )
        # A change applied at once: the demand's reasons and a second version, with a reason.
        demands.propose_change(
            support,
            "kestrel",
            1,
            wording=marked("demands.demand.wording"),
            reasons=marked("demands.demand.reasons"),
            criteria=marked("demands.demand.criteria"),
            why=marked("demands.demandversion.why"),
            softer=False,
            base_revision=1,
            apply_now=True,
        )
    with using(contact_ring):
        proposal = demands.propose_change(
            contact,
            "kestrel",
            1,
            wording=marked("demands.changeproposal.wording"),
            reasons=marked("demands.changeproposal.reasons"),
            criteria=marked("demands.changeproposal.criteria"),
            why=marked("demands.changeproposal.why"),
            softer=True,
            base_revision=2,
        )
        demands.record_progress(
            contact,
            "kestrel",
            1,
            note=marked("demands.progress.note"),
            status="progress",
            status_seen="open",
        )
        demands.record_answer(
            contact,
            "kestrel",
            1,
            kind="renegotiate",
            said_on=timezone.localdate(),
            note=marked("demands.answer.note"),
        )
    with using(support_ring):
        demands.decide(
            support,
            "kestrel",
            proposal.pk,
            approve=False,
            answer=marked("demands.changeproposal.answer"),
        )
    with using(contact_ring):
        _fill_marked_record(contact, marked)
        _fill_marked_reflections(contact, marked)
        _fill_marked_referral(contact, marked)
        _draft_a_report(contact, marked)
        _export_a_report(contact)
        _release_a_report(contact, "report-back", marked)
    with using(support_ring):
        _release_a_report(support, "survivor-update", marked)
    with using(support_ring):
        _fill_marked_wishes(support, marked)
    with using(contact_ring):
        _answer_the_requests(contact, marked)
    respondent, respondent_ring = _acting(respondent_account)
    with using(respondent_ring):
        _send_through_the_portal(respondent)
    with using(contact_ring):
        _file_what_was_sent(contact, marked)
        _fill_marked_mail(contact, marked)


def _fill_marked_wishes(support, marked) -> None:
    """The survivor's side's preferences, something kept from a person, and two requests."""
    from uphold.survivor import services as survivor

    survivor.save_preferences(
        support,
        "kestrel",
        survivor.Wishes(
            "monthly", "directly", "big", True, avoid=marked("survivor.preferences.avoid")
        ),
        base_revision=0,
    )
    survivor.add_withholding(
        support,
        "kestrel",
        what=marked("survivor.withholding.what"),
        from_whom=marked("survivor.withholding.from_whom"),
    )
    for _ in range(3):
        survivor.ask_for_item(support, "kestrel", marked("survivor.itemrequest.what"))


def _answer_the_requests(contact, marked) -> None:
    """The first request declined with a reason, the second answered with a released entry,
    the third with a meeting's minutes (each copy's text then marked, with its audit event)."""
    from uphold.audit import services as audit
    from uphold.audit.models import Kind
    from uphold.record.models import Entry, Meeting
    from uphold.survivor import services as survivor
    from uphold.survivor.models import ItemRequest

    first, second, third = ItemRequest.objects.filter(process__code="kestrel").order_by("pk")
    survivor.decline_item(contact, "kestrel", first.pk, marked("survivor.itemrequest.answer"))
    entry = Entry.objects.filter(process__code="kestrel").order_by("pk").first()
    meeting = Meeting.objects.filter(process__code="kestrel").exclude(minutes=None).first()
    for request, source in ((second, {"entry_id": entry.pk}), (third, {"meeting_id": meeting.pk})):
        copy = survivor.release_item(contact, "kestrel", request.pk, **source)
        copy.text = marked("survivor.releaseditem.text")
        copy.save()
        audit.record(contact, copy.process, Kind.CHANGE, copy)


def _send_through_the_portal(respondent) -> None:
    """X sends a reflection: sealed to the inbox, his log entry written from clear columns."""
    from uphold.portal import services as portal

    portal.send(respondent, "kestrel", "reflection", "A reflection sent through the portal.")


def _file_what_was_sent(contact, marked) -> None:
    """The contact group's keys file it into the log; its texts are then marked (with their
    audit events, as a member's change would be)."""
    from uphold.audit import services as audit
    from uphold.audit.models import Kind
    from uphold.portal import services as portal
    from uphold.portal.models import Submission
    from uphold.processes.models import Membership
    from uphold.reflections.models import Reflection

    membership = Membership.objects.get(user=contact, process__code="kestrel")
    assert portal.file_waiting(contact, membership) == 1
    entry = Submission.objects.get(process__code="kestrel").entry
    entry.summary, entry.text = marked("record.entry.summary"), marked("record.entry.text")
    entry.save()
    audit.record(contact, entry.process, Kind.CHANGE, entry)
    reflection = Reflection.objects.get(entry=entry)
    reflection.text = marked("reflections.reflection.text")
    reflection.save()
    audit.record(contact, entry.process, Kind.CHANGE, reflection)


def _fill_marked_mail(contact, marked) -> None:
    """X's address, a message from him imported into the log, and a preview of an unmatched
    one waiting for the member's choice (its uploaded file then dropped). The texts are then
    marked, with their audit events."""
    from uphold.attachments.models import Attachment
    from uphold.audit import services as audit
    from uphold.audit.models import Kind
    from uphold.mailin import imap, parse, services
    from uphold.mailin.models import MailKey, PreviewItem

    from .mail_tools import CONTACT, STRANGER, X, eml, message

    address = services.add_address(contact, "kestrel", "x", X)
    details = imap.Details(
        marked("mailin.imapaccount.host"),
        9,  # nothing listens there: the fixture's mailbox is never fetched from
        "ssl",
        marked("mailin.imapaccount.username"),
        marked("mailin.imapaccount.password"),
        marked("mailin.imapaccount.folder"),
    )
    imap.add_account(contact, "kestrel", details)
    mail = eml(message(X, CONTACT, "A mail from X", "Sent by email."))
    summary = services.summarise(contact, "kestrel", parse.split([mail]), None)
    batch = services.import_stream(contact, "kestrel", parse.split([mail]), summary.counts)
    entry = batch.messages.get().entry
    writer = services.writer_for_file(contact, "kestrel", marked("attachments.attachment.name"))
    writer.write(eml(message(STRANGER, CONTACT, "Unmatched")))
    source = writer.seal_unfinished()
    services.preview(contact, "kestrel", [source])
    Attachment.objects.filter(pk=source.pk).delete()
    item = PreviewItem.objects.get(process__code="kestrel")
    item.label, item.choice = (
        marked("mailin.previewitem.label"),
        marked("mailin.previewitem.choice"),
    )
    item.save()
    key = MailKey.objects.get(process__code="kestrel")
    key.key = bytes(21) + marked("mailin.mailkey.key").encode()  # read as a chunk is
    address.address = marked("mailin.address.address")
    entry.summary, entry.text = marked("record.entry.summary"), marked("record.entry.text")
    for row in (key, address, entry):
        row.save()
        audit.record(contact, row.process, Kind.CHANGE, row)


def _fill_marked_record(contact, marked) -> None:
    """The log, a meeting with its minutes, steps of both owners, and a confirmation."""
    from datetime import timedelta

    from uphold.audit import services as audit
    from uphold.audit.models import Kind
    from uphold.people import services as people
    from uphold.record import services as record
    from uphold.record.models import Confirmation

    circle = people.add_person(
        contact,
        "kestrel",
        people.PersonData(
            kind="circle",
            relation="political_group",
            name=marked("people.person.name"),
            notes=marked("people.person.notes"),
            asked_on=timezone.localdate(),
            answer=marked("people.person.answer"),
        ),
    )
    entry = record.add_entry(
        contact,
        "kestrel",
        record.EntryData(
            occurred_on=timezone.localdate(),
            kind="message",
            direction="to_x",
            channel="email",
            summary=marked("record.entryversion.summary"),
            text=marked("record.entryversion.text"),
            people=marked("record.entryversion.people"),
            tags=["no_reply"],
            demand_numbers=[1],
            around=[circle.pk],
        ),
    )
    people.add_informing(
        contact,
        "kestrel",
        circle.pk,
        people.InformingData(
            on=timezone.localdate(),
            by="group",
            reach="leaders",
            entry_id=entry.pk,
            note=marked("people.informing.note"),
        ),
    )
    people.change_stance(
        contact,
        "kestrel",
        circle.pk,
        people.StanceData(
            on=timezone.localdate(), stance="neutral", note=marked("people.stancechange.note")
        ),
    )
    people.set_informing_demand(contact, "kestrel", 1)
    record.edit_entry(
        contact,
        "kestrel",
        entry.pk,
        record.EntryData(
            occurred_on=timezone.localdate(),
            kind="message",
            direction="to_x",
            channel="email",
            summary=marked("record.entry.summary"),
            text=marked("record.entry.text"),
            people=marked("record.entry.people"),
            around=[circle.pk],
        ),
        base_revision=1,
        why=marked("record.entryversion.why"),
    )
    meeting = record.plan_meeting(
        contact,
        "kestrel",
        planned_at=timezone.now() - timedelta(hours=2),
        place=marked("record.meeting.place"),
        attendees=[contact],
    )
    record.record_outcome(
        contact,
        "kestrel",
        meeting.pk,
        outcome="held",
        minutes=marked("record.meeting.minutes"),
        steps=[
            record.StepData(
                owner="x",
                what=marked("record.step.what_x"),
                due_on=timezone.localdate() + timedelta(days=14),
                demand_number=1,
            )
        ],
    )
    step = record.add_step(
        contact,
        "kestrel",
        record.StepData(
            owner="group",
            what=marked("record.step.what_group"),
            due_on=timezone.localdate() + timedelta(days=7),
        ),
    )
    record.change_step(
        contact,
        "kestrel",
        step.pk,
        owner="group",
        status="done",
        reason=marked("record.stepchange.reason"),
        evidence=marked("record.step.evidence"),
        owner_seen="group",
        status_seen="open",
    )
    record.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
    confirmation = Confirmation.objects.get(meeting=meeting)
    # Both the group's draft and X's copy of what was sent, so each scope is filled.
    for name in ("to_address", "subject", "body"):
        setattr(confirmation, name, marked(f"record.confirmation.{name}"))
        setattr(confirmation, f"draft_{name}", marked(f"record.confirmation.draft_{name}"))
    confirmation.save()
    # As a member's edits before sending are recorded (see send_confirmation).
    audit.record(contact, confirmation.process, Kind.CHANGE, confirmation)


def _fill_marked_reflections(contact, marked) -> None:
    """A reflection, its review changed once (so a version is kept), released with quotes."""
    from uphold.reflections import services as reflections
    from uphold.reflections.models import QUESTION_NAMES

    def answers(model: str) -> dict:
        return {
            name: reflections.Answer(
                1,
                marked(f"reflections.{model}.{name}_quotes"),
                marked(f"reflections.{model}.{name}_note"),
            )
            for name in QUESTION_NAMES
        }

    reflection = reflections.add_reflection(
        contact,
        "kestrel",
        written_on=timezone.localdate(),
        source="pasted",
        text=marked("reflections.reflection.text"),
    )
    review = reflections.add_review(contact, "kestrel", reflection.pk, answers("reviewversion"))
    reflections.edit_review(
        contact, "kestrel", review.pk, answers("review"), base_revision=review.revision
    )
    reflections.release(contact, "kestrel", review.pk, with_quotes=True)


def _draft_a_report(contact, marked) -> None:
    """The group's words in a report-back, drafted under the record."""
    from uphold.reports.services import save_drafts

    save_drafts(
        contact, "kestrel", "report-back", {"summary": marked("reports.reportdraft.text")}, {}
    )


def _export_a_report(contact) -> None:
    """A report-back taken out as Markdown: its export row (no sealed field; made afresh)."""
    from uphold.reports.services import export

    export(contact, "kestrel", "report-back", "md", timezone.localdate())


def _release_a_report(member, kind: str, marked) -> None:
    """A report released to those it is for, its text then marked (with its audit event, as a
    member's change would be)."""
    from uphold.audit import services as audit
    from uphold.audit.models import Kind
    from uphold.reports.services import release

    copy = release(member, "kestrel", kind, timezone.localdate())
    copy.text = marked("reports.releasedreport.text")
    copy.save()
    audit.record(member, copy.process, Kind.CHANGE, copy)


def _fill_marked_referral(contact, marked) -> None:
    """A programme in the directory (clear, no marker), and a referral to one outside it,
    refused with X's reasons, the survivor's contact route passed on."""
    from uphold.programmes import services as programmes

    programmes.add_programme(
        contact, programmes.ProgrammeData(name="Example programme Nord", kind="group")
    )
    referral = programmes.add_referral(
        contact,
        "kestrel",
        programmes.ReferralData(
            researched_by="group",
            status="contacted",
            on=timezone.localdate(),
            other_name=marked("programmes.referral.other_name"),
        ),
    )
    programmes.change_referral(
        contact,
        "kestrel",
        referral.pk,
        status="refused",
        status_seen="contacted",
        on=timezone.localdate(),
        reasons=marked("programmes.referralchange.reasons"),
        note=marked("programmes.referralchange.note"),
        passed_contact_route=True,
    )


@pytest.fixture
def people(accounts) -> dict[str, User]:
    return {
        role: acting_as(User.objects.get(username=a["username"])) for role, a in accounts.items()
    }


def log_in(client: Client, user: User, password: str | None = None) -> Client:
    """As after a password and TOTP login (the login form itself is tested in test_login).

    With the password, the session also holds the private key, as after a real login.
    """
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session[LOGIN_AT] = session[REAUTH_AT] = timezone.now().isoformat()
    if password:
        request = SimpleNamespace(session=session)
        crypto_sessions.hold(request, unlock(user, password))
        client.cookies[crypto_sessions.cookie_name()] = request.uphold_key_cookie
    session.save()
    return client


@pytest.fixture
def client_for(people, accounts):
    def make(role: str, **kwargs) -> Client:
        client = Client(**kwargs)
        if role == "anonymous":
            return client
        return log_in(client, people[role], accounts[role]["password"])

    return make


def code_for(account: dict) -> str:
    return totp_code(account["totp_key"])


def password_change(account: dict, new: str, **overrides) -> dict:
    """The password page's form: current password, a fresh code (as at the next 30 seconds),
    the new password twice."""
    TOTPDevice.objects.filter(user__username=account["username"]).update(last_t=-1)
    return {
        "current_password": account["password"],
        "code": code_for(account),
        "password1": new,
        "password2": new,
    } | overrides


def with_token(data: dict | None = None) -> dict:
    """A creating form's fields with the one-time token its page carries (uphold/web/once.py)."""
    return {**(data or {}), "once": once.fresh()}


def database_state(ignoring: tuple[str, ...] = ()) -> str:
    """A digest of every row of every table except sessions: equal digests, nothing changed.

    `ignoring` names apps whose rows may change (the lock's attempts, where they must count).
    The rows are read as the database holds them, many-to-many tables included.
    """
    from django.db import connection

    quote = connection.ops.quote_name
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for model in sorted(apps.get_models(include_auto_created=True), key=_label):
            if model is Session or model._meta.app_label in ignoring or model._meta.proxy:
                continue
            table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")
            digest.update(repr((model._meta.label, cursor.fetchall())).encode())
    return digest.hexdigest()


def _label(model) -> str:
    return model._meta.label


def pytest_terminal_summary(terminalreporter):
    from .test_authorization import matrix_size

    routes, roles, cases = matrix_size()
    terminalreporter.write_line(
        f"authorization matrix: {routes} routes x {roles} roles = {cases} checked answers"
    )


@pytest.fixture
def as_member(people, accounts):
    """`with as_member("contact") as user:` acts with that member's keys, as after a login."""
    from contextlib import contextmanager

    from uphold.crypto.keyring import using

    @contextmanager
    def acting(role: str):
        user, ring = _acting(accounts[role])
        with using(ring):
            yield user

    return acting


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free port; Django's mail goes to it."""
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list = []
            self.raw: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):
            from email import message_from_bytes, policy

            message = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append((envelope.rcpt_tos, message))
            self.raw.append(envelope.original_content or envelope.content)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.fixture
def demo_mode(settings, tmp_path):
    """Demo settings with the data folder and the mail catcher's folder (returned) in tmp."""
    settings.DEMO = True
    settings.DATA_DIR = tmp_path
    settings.EMAIL_BACKEND = "uphold.lib.mailcatcher.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "demo-mail")
    return tmp_path / "demo-mail"


@pytest.fixture(autouse=True)
def _no_keyring_left_over():
    """A command sets its member's keyring for the whole process (keyring.activate); in the
    tests that process runs on, so each test starts and ends with none."""
    from uphold.crypto import keyring

    token = keyring._current.set(keyring.NOBODY)
    yield
    keyring._current.reset(token)


@pytest.fixture(autouse=True)
def _default_language_for_every_test():
    """A command acting as a German-speaking member activates German for the process the
    tests run in; each test starts in the default language, whatever the one before left."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


def _chain_problems() -> tuple[list, list]:
    """Every process whose chain no longer vouches for its rows, and every one whose stored
    contact health differs from its log folded afresh."""
    import os

    from uphold.audit.services import verify
    from uphold.processes.models import Process
    from uphold.record.health import stored_differs

    # A browser test leaves Playwright's event loop running in this thread; the check itself
    # is plain synchronous code between tests.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        broken = [(p.code, problems) for p in Process.objects.all() if (problems := verify(p))]
        stale = [p.code for p in Process.objects.all() if stored_differs(p)]
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before
    return broken, stale


WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)', re.I)


def _checked_tables() -> set[str]:
    """The tables the check below reads: every chained model's (and its many-to-many
    tables), the chain's own, the processes' and the stored contact health."""
    from uphold.audit.models import AuditEvent, Checkpoint
    from uphold.audit.services import chained_models
    from uphold.processes.models import Process
    from uphold.record.models import HealthState

    tables = {m._meta.db_table for m in [AuditEvent, Checkpoint, Process, HealthState]}
    for model in chained_models():
        tables.add(model._meta.db_table)
        tables.update(f.remote_field.through._meta.db_table for f in model._meta.many_to_many)
    return tables


class Writes:
    """Counts the statements that write to a table the chain check reads (an execute
    wrapper); the shared fixture's own restore is marked and left out (tests/snapshot.py)."""

    def __init__(self) -> None:
        self.tables = _checked_tables()
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match and match.group(1) in self.tables and not sql.startswith(RESTORING):
            self.count += 1
        return execute(sql, params, many, context)


@pytest.fixture(autouse=True)
def _chain_holds_after_every_test(request):
    """Whatever a test did through Uphold, every process's chain still vouches for every row
    and column: a write that forgets its audit event fails the test that makes it.

    A test that wrote nothing leaves the database as it found it: empty, or holding the
    shared fixture, whose chain was checked when it was built; the check is then skipped.
    """
    database = next(
        (name for name in ("transactional_db", "db") if name in request.fixturenames), None
    )
    if database is None or request.node.get_closest_marker("tampers"):
        yield
        return
    request.getfixturevalue(database)  # set up first, so it is torn down after this check
    from django.db import connection

    writes = Writes()
    with connection.execute_wrapper(writes):
        yield
    if connection.needs_rollback:  # the test ended inside a failed transaction: nothing to read
        return
    if writes.count == 0:
        return
    assert _chain_problems() == ([], [])
