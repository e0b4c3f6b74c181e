"""X's narrow portal, and the survivor's side's pages: every URL walked as each of them, what
he sends, and the ways it must fail (too long, script, a closed portal, a revoked account, an
inbox key swapped in the database)."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from uphold.portal import services as portal
from uphold.portal.models import Submission
from uphold.record.models import Entry, HealthState

from .conftest import MARK, database_state
from .test_authorization import route_names, url_for

MARKED = re.compile(re.escape(MARK) + r"[a-z_]+\.[a-z_]+\.[a-z_]+")

# What X's pages may hold of the process's sealed texts: his demands with their criteria, his
# steps, where his meeting is, and the confirmations sent to him.
HIS = {
    "demands.demand.wording",
    "demands.demand.criteria",
    "record.step.what_x",
    "record.meeting.place",
    "record.confirmation.subject",
    "record.confirmation.body",
}
# The pages that answer each of them (with 200), every other route refusing or sending away.
# Account pages and public pages hold nothing of a process.
# (A calendar feed answers whoever holds its secret link; it carries dates only.)
ACCOUNT_PAGES = {
    "home", "invite", "password", "recover", "reauth", "account-settings", "reset", "feed"
}  # fmt: skip
ANSWERS = {
    "respondent": ACCOUNT_PAGES | {"portal"},
    "survivor": ACCOUNT_PAGES
    | {
        "process",
        "demands",
        "demand",
        "demand-add",
        "demand-propose",
        "demand-progress",
        "proposal",
        "letter-edit",
        "letter-sent",
        "letter-version",
        "letter-document",
        "reviews-released",
        "released-reports",
        "process-settings",
        "survivor",
        "survivor-preferences",
        "survivor-access",
    },
}


@pytest.fixture
def next_meeting(as_member):
    """A meeting he is expected at, a week from now, its place marked."""
    from uphold.record import services as record

    with as_member("contact") as contact:
        return record.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=7),
            place=MARK + "record.meeting.place",
            attendees=[contact],
        )


@pytest.fixture
def sent_confirmation(people):
    """The fixture's confirmation, as after the mail server accepted it (with its event)."""
    from uphold.audit import services as audit
    from uphold.audit.models import Kind
    from uphold.record.models import Confirmation

    confirmation = Confirmation.objects.get(process__code="kestrel")
    confirmation.state, confirmation.sent_at = "sent", timezone.now()
    confirmation.save(update_fields=["state", "sent_at"])
    audit.record(people["contact"], confirmation.process, Kind.SEND, confirmation)
    return confirmation


@pytest.mark.parametrize("role", ["respondent", "survivor"])
def test_every_url_answers_only_where_it_should(
    role, accounts, client_for, next_meeting, sent_confirmation
):
    client = client_for(role)
    answered, seen = set(), {}
    for name in route_names():
        if name in ("logout", "leave"):
            continue  # they would end the session the walk goes on with
        response = client.get(url_for(name, accounts))
        if response.status_code == 200:
            answered.add(name)
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            body = content.decode(errors="replace")
            seen[name] = {m[len(MARK) :] for m in MARKED.findall(body)}
    assert answered == ANSWERS[role]
    if role == "respondent":
        for name, labels in seen.items():
            assert labels <= HIS, f"{name} shows {labels - HIS}"
        assert seen["portal"] == HIS  # and the portal shows all of it
    else:
        from .test_crypto import ROLE_OPENS, SAME_TEXT

        # What the survivor's keys open; a copy (a released review) holds its original's text.
        theirs = {t for label in ROLE_OPENS["survivor"] for t in SAME_TEXT.get(label, {label})}
        for name, labels in seen.items():
            assert labels <= theirs, f"{name} shows {labels - theirs}"


def test_his_overview_is_his_portal(client_for):
    answer = client_for("respondent").get("/p/kestrel/")
    assert answer.status_code == 302 and answer["Location"] == "/p/kestrel/portal/"


def test_the_portal_names_no_member_and_no_word_for_the_survivor(client_for, people):
    page = client_for("respondent").get("/p/kestrel/portal/").content.decode()
    for role in ("support", "contact", "survivor", "community"):
        assert f">{people[role].username}<" not in page, role
    assert "processes.process.survivor_term" not in page


def _send(client, text: str, kind: str = "reflection"):
    from uphold.web.once import fresh

    return client.post("/p/kestrel/portal/send/", {"kind": kind, "text": text, "once": fresh()})


def test_what_he_sends_lands_in_the_log_as_a_message_from_him(
    client_for, accounts, smtp_server, people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    people["contact"].email = "contact@example.org"
    people["contact"].save(update_fields=["email"])
    before = Entry.objects.filter(process__code="kestrel").count()
    text = "I read the letter again.\nI have not yet told my new group."
    with django_capture_on_commit_callbacks(execute=True):
        answer = _send(client_for("respondent"), text, "update")
    assert answer.status_code == 302
    submission = Submission.objects.filter(process__code="kestrel").order_by("-pk").first()
    assert text.encode() not in bytes(submission.sealed)  # sealed to the inbox
    entry = submission.entry
    assert (entry.kind, entry.direction, entry.channel) == ("message", "from_x", "portal")
    assert Entry.objects.filter(process__code="kestrel").count() == before + 1
    # Contact health counts his answer at once, before anyone opens it.
    tally = HealthState.objects.get(process__code="kestrel").tally
    assert tally["last_reply"] == timezone.localdate().isoformat()
    # The contact group is told, with nothing of what he wrote.
    call_command("worker", batch=True, startup_delay=False, verbosity=0, remind_every=0)
    (_to, notice), *_ = [m for m in smtp_server.messages if m[0] == ["contact@example.org"]]
    assert "kestrel" in notice["Subject"]
    assert "new group" not in notice.as_string() and "letter again" not in notice.as_string()
    # The group's next look at the log files it there, sealed under the record.
    log = client_for("contact").get("/p/kestrel/log/").content.decode()
    assert "I read the letter again." in log
    submission.refresh_from_db()
    assert submission.filed_at is not None and bytes(submission.sealed) == b""
    stored = Entry.objects.filter(pk=entry.pk).values_list("text", flat=True).get()
    assert stored and text.encode() not in bytes(stored)


def test_script_in_a_reflection_reaches_the_group_as_text(client_for):
    from uphold.reflections.models import Reflection

    assert (
        _send(client_for("respondent"), "<script>alert(1)</script> I am sorry").status_code == 302
    )
    contact = client_for("contact")
    entry = Submission.objects.order_by("-pk").first().entry
    page = contact.get(f"/p/kestrel/log/{entry.pk}/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    reflection = Reflection.objects.get(entry=entry)
    page = contact.get(f"/p/kestrel/reflections/{reflection.pk}/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_a_two_megabyte_reflection_is_refused_plainly_and_changes_nothing(client_for):
    client = client_for("respondent")
    before = database_state()
    answer = _send(client, "x" * (2 * 1024 * 1024))
    assert answer.status_code == 400
    assert "larger than 2 MB, so nothing was saved" in answer.content.decode()
    answer = _send(client, "x" * 300_000)  # under the server's limit, over the portal's
    assert answer.status_code == 400
    assert "This is 300,000 characters; the group takes at most 200,000" in answer.content.decode()
    assert database_state() == before


def test_an_empty_or_unknown_kind_is_refused(client_for):
    client = client_for("respondent")
    before = database_state()
    assert _send(client, "").status_code == 400
    assert _send(client, "fine", kind="letter").status_code == 400
    assert database_state() == before


def test_a_revoked_respondent_with_a_saved_link_is_logged_out_and_told(client_for, people):
    from uphold.processes import services
    from uphold.processes.models import Membership

    client = client_for("respondent")
    assert client.get("/p/kestrel/portal/").status_code == 200
    his = Membership.objects.get(process__code="kestrel", role="respondent")
    services.remove_member(people["contact"], "kestrel", his.pk)
    answer = client.get("/p/kestrel/portal/")
    assert answer.status_code == 403
    page = answer.content.decode()
    assert "Your access has ended" in page and "You have been logged out." in page
    assert client.get("/").status_code == 302  # to the login page: the session is gone


def test_a_closed_portal_says_so_and_takes_nothing(client_for, people):
    from uphold.processes import services

    services.change_settings(people["contact"], "kestrel", portal_open=False)
    client = client_for("respondent")
    page = client.get("/p/kestrel/portal/")
    assert page.status_code == 403 and "The portal is closed" in page.content.decode()
    assert "processes.process" not in page.content.decode() and MARK not in page.content.decode()
    before = database_state()
    assert _send(client, "an update").status_code == 403
    assert database_state() == before


def test_the_portal_setting_is_the_groups(client_for):
    form = {"section": "portal", "portal-seen_portal_open": "True"}
    assert client_for("survivor").post("/p/kestrel/settings/", form).status_code == 403
    assert client_for("contact").post("/p/kestrel/settings/", form).status_code == 302
    from uphold.processes.models import Process

    assert Process.objects.get(code="kestrel").portal_open is False


@pytest.mark.tampers
def test_an_inbox_key_swapped_in_the_database_gets_nothing(client_for, as_member):
    """A database writer puts their own public key in the inbox: the attestation left there
    was made for the real key, so X's portal will not seal to theirs, and no group member
    vouches for it."""
    from uphold.crypto import primitives
    from uphold.crypto.models import ProcessInbox

    public, _private = primitives.new_key_pair()
    ProcessInbox.objects.filter(process__code="kestrel").update(public_key=public)
    before = Submission.objects.count()
    answer = _send(client_for("respondent"), "my update")
    assert answer.status_code == 400 and "cannot send this safely" in answer.content.decode()
    assert Submission.objects.count() == before
    client_for("contact").get("/p/kestrel/")  # a group member's look does not vouch for it
    assert _send(client_for("respondent"), "my update").status_code == 400
    assert Submission.objects.count() == before


def test_a_group_member_files_it_even_when_x_sent_it_before_their_keys_changed(client_for):
    """Filing opens the inbox with the record key of the inbox's own generation."""
    assert _send(client_for("respondent"), "first update").status_code == 302
    assert portal.waiting(Submission.objects.order_by("-pk").first().process)
    client_for("support").get("/p/kestrel/")
    assert not portal.waiting(Submission.objects.order_by("-pk").first().process)


# What a database writer (or a former member who kept a key) tries against the portal.


def _a_group_entry() -> Entry:
    return Entry.objects.filter(process__code="kestrel").exclude(channel="portal").first()


def _forge(entry: Entry, text: bytes, kind: str = "reflection") -> Submission:
    """A row inserted behind Uphold's back, its text sealed to the (public) inbox key."""
    from uphold.crypto import services as crypto

    process = entry.process
    return Submission.objects.create(
        process=process,
        kind=kind,
        entry=entry,
        sealed=crypto.seal_to_inbox(process, text),
        mac="0" * 64,
        mac_generation=1,
        characters=len(text),
        sent_by=Entry.objects.filter(channel="portal").first().created_by,
    )


@pytest.mark.tampers
def test_a_forged_submission_never_rewrites_an_entry(client_for, people):
    from uphold.reflections.models import Reflection

    entry = _a_group_entry()
    stored = Entry.objects.filter(pk=entry.pk).values_list("summary", "text").get()
    reflections = Reflection.objects.count()
    forged = _forge(entry, b"FORGED: he did nothing wrong")
    assert client_for("contact").get("/p/kestrel/log/").status_code == 200
    assert Entry.objects.filter(pk=entry.pk).values_list("summary", "text").get() == stored
    assert Reflection.objects.count() == reflections
    forged.refresh_from_db()
    assert forged.refused_at is not None and forged.filed_at is None


@pytest.mark.tampers
def test_a_forged_portal_entry_without_his_mac_is_refused(client_for, accounts):
    """Even an entry shaped like his (a message from him through the portal, no text yet)."""
    from uphold.audit.models import AuditEvent

    _send(client_for("respondent"), "a real update")
    real = Submission.objects.order_by("-pk").first()
    Submission.objects.filter(pk=real.pk).update(mac="0" * 64)  # and no event for it
    client_for("contact").get("/p/kestrel/")
    real.refresh_from_db()
    assert real.refused_at is not None
    assert not Entry.objects.filter(pk=real.entry_id).exclude(text=None).exists()
    assert AuditEvent.objects.filter(object_id=str(real.pk), kind="change").exists()


@pytest.mark.tampers
def test_a_submission_pointing_into_another_process_blocks_nothing(client_for, people):
    from uphold.processes.models import Process

    heron = Entry.objects.create(
        process=Process.objects.get(code="heron"), occurred_on=timezone.localdate(), kind="note"
    )
    kestrel_entry = _a_group_entry()
    forged = _forge(kestrel_entry, b"x")
    Submission.objects.filter(pk=forged.pk).update(entry=heron)
    for path in ("/p/kestrel/", "/p/kestrel/log/"):
        assert client_for("contact").get(path).status_code == 200, path
    assert Submission.objects.get(pk=forged.pk).refused_at is not None


@pytest.mark.tampers
def test_an_inbox_key_planted_under_retired_keys_after_a_rotation_gets_nothing(
    client_for, people, accounts
):
    """A former member kept the old record and respondent keys, and after the keys are
    replaced plants their own inbox key, sealed and vouched for under the old ones."""
    from uphold.crypto import primitives
    from uphold.crypto import services as crypto
    from uphold.crypto.keyring import using
    from uphold.crypto.models import ProcessInbox
    from uphold.processes.services import rotate_keys

    from .conftest import _acting

    support, ring = _acting(accounts["support"])
    with using(ring):
        kestrel = Entry.objects.filter(process__code="kestrel").first().process
        _g, old_record = ring.scope_key(kestrel.pk, "record", 1)
        _g, old_respondent = ring.scope_key(kestrel.pk, "respondent", 1)
        rotate_keys(support, "kestrel")
    inbox = ProcessInbox.objects.get(process=kestrel)
    assert inbox.record_generation == 2
    public, private = primitives.new_key_pair()
    ProcessInbox.objects.filter(pk=inbox.pk).update(
        public_key=public,
        private_sealed=primitives.encrypt(old_record, private, crypto._inbox_ad(kestrel.pk)),
        record_generation=1,
        attestation=crypto._inbox_attestation(old_respondent, kestrel.pk, 1, public, 1),
        attested_generation=1,
    )
    client_for("contact").get("/p/kestrel/")  # a group member's look vouches for nothing
    before = Submission.objects.count()
    answer = _send(client_for("respondent"), "my secret reflection")
    assert answer.status_code == 400 and "cannot send this safely" in answer.content.decode()
    assert Submission.objects.count() == before


def test_replacing_the_keys_gives_the_inbox_a_new_key_and_keeps_what_waits(client_for, accounts):
    from uphold.crypto.keyring import using
    from uphold.crypto.models import ProcessInbox
    from uphold.processes.services import rotate_keys

    from .conftest import _acting

    assert _send(client_for("respondent"), "sent before the keys changed").status_code == 302
    waiting = Submission.objects.order_by("-pk").first()
    old_public = bytes(ProcessInbox.objects.get(process=waiting.process).public_key)
    support, ring = _acting(accounts["support"])
    with using(ring):
        rotate_keys(support, "kestrel")
    assert bytes(ProcessInbox.objects.get(process=waiting.process).public_key) != old_public
    log = client_for("contact").get("/p/kestrel/log/").content.decode()
    assert "sent before the keys changed" in log
    assert _send(client_for("respondent"), "and one after").status_code == 302
