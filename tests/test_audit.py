"""The audit chain: every change is an event; an edit behind Uphold's back is found and named."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from uphold.audit.models import AuditEvent
from uphold.audit.services import verify
from uphold.processes.models import Process

from .conftest import MARK


def kinds(code: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(process__code=code).order_by("seq").values_list("kind", flat=True)
    )


def test_building_a_process_leaves_an_unbroken_chain(people):
    assert kinds("kestrel")[:2] == ["create", "create"]
    assert kinds("kestrel").count("grant") == 4
    assert verify(Process.objects.get(code="kestrel")) is None


def test_a_login_is_an_event_in_each_of_the_members_processes(accounts):
    from django.test import Client

    from .test_login import post_login

    before = kinds("kestrel").count("login")
    post_login(Client(), accounts["community"])
    assert kinds("kestrel").count("login") == before + 1
    assert kinds("heron").count("login") == 0


def test_events_hold_no_text_in_clear(people):
    for event in AuditEvent.objects.values():
        assert MARK not in repr(event)


@pytest.mark.tampers  # alters the database behind Uphold's back
def test_an_edited_row_breaks_the_chain_and_verify_names_it(people):
    event = AuditEvent.objects.filter(process__code="kestrel").order_by("seq")[2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET kind = %s WHERE id = %s", ["delete", event.pk]
        )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify", stdout=StringIO(), stderr=err)
    assert f"kestrel: event {event.seq} (row id {event.pk}) was altered" in err.getvalue()


@pytest.mark.tampers  # alters the database behind Uphold's back
def test_a_deleted_event_breaks_the_chain(people):
    event = AuditEvent.objects.filter(process__code="kestrel").order_by("seq")[1]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [event.pk])
    problem = verify(Process.objects.get(code="kestrel"))
    assert problem and "missing" in problem.reason


def test_a_whole_chain_verifies(people):
    out = StringIO()
    call_command("verify", stdout=out)
    assert "kestrel:" in out.getvalue() and "chain and every column intact" in out.getvalue()


def test_group_members_read_the_audit_log_in_queries_that_do_not_grow(people, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from uphold.audit.services import record

    client = client_for("contact")
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("audit", args=["kestrel"])).content.decode()
    assert "the survivor&#x27;s preferences" in page and "support" in page
    kestrel = Process.objects.get(code="kestrel")
    for _ in range(30):
        record(people["community"], kestrel, "login")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("audit", args=["kestrel"]))
    # Fewer, not more: the page now shows the newest 50 events, and names their rows with one
    # query per kind of row on it (tests/test_paging.py compares pages of the same kinds).
    assert len(many.captured_queries) <= len(few.captured_queries)


@pytest.mark.tampers  # alters the database behind Uphold's back
def test_a_row_rolled_back_or_deleted_behind_uphold_is_found(people):
    from uphold.attachments.models import Attachment

    attachment = Attachment.objects.filter(process__code="kestrel").first()
    other = Process.objects.get(code="kestrel").__dict__["title"]
    # Put another (valid-looking) ciphertext into the document's name: the digest differs.
    Attachment.objects.filter(pk=attachment.pk).update(name=other)
    problem = verify(Process.objects.get(code="kestrel"))
    assert problem and "now holds" in problem.reason
    Attachment.objects.filter(pk=attachment.pk).delete()
    problem = verify(Process.objects.get(code="kestrel"))
    assert problem and "gone" in problem.reason


def test_a_rotation_keeps_the_chain_verifying(people, accounts):
    from uphold.crypto.keyring import Keyring, using
    from uphold.crypto.services import unlock
    from uphold.processes.services import rotate_keys

    support = people["support"]
    with using(Keyring(support.pk, unlock(support, accounts["support"]["password"]))):
        rotate_keys(support, "kestrel")
    assert verify(Process.objects.get(code="kestrel")) is None
    assert "rotate" in kinds("kestrel")


def rewrite_chain_from(process: Process, seq: int) -> None:
    """What a database writer without keys can do: backdate an event and recompute every
    digest after it, so the keyless check passes."""
    from datetime import timedelta

    from uphold.audit.services import event_digest

    events = list(AuditEvent.objects.filter(process=process).order_by("seq"))
    prev = events[seq - 2].digest if seq > 1 else "0" * 64
    for event in events[seq - 1 :]:
        if event.seq == seq:
            event.at -= timedelta(days=400)
        event.prev_digest = prev
        event.digest = event_digest(event)
        AuditEvent.objects.filter(pk=event.pk).update(
            at=event.at, prev_digest=event.prev_digest, digest=event.digest
        )
        prev = event.digest


@pytest.mark.tampers  # alters the database behind Uphold's back
def test_a_rewritten_chain_passes_the_keyless_check_but_not_the_sealed_head(people, accounts):
    from uphold.audit.services import verify_with_key
    from uphold.crypto.keyring import Keyring
    from uphold.crypto.services import unlock

    kestrel = Process.objects.get(code="kestrel")
    ring = Keyring(people["contact"].pk, unlock(people["contact"], accounts["contact"]["password"]))
    assert verify_with_key(ring, kestrel) is None
    rewrite_chain_from(kestrel, 3)
    assert verify(kestrel) is None  # the limit of a chain without a key
    problem = verify_with_key(ring, kestrel)
    assert problem and "rewritten" in problem.reason


@pytest.mark.tampers  # alters the database behind Uphold's back
def test_verify_with_a_member_checks_the_sealed_head(people, accounts, monkeypatch):
    monkeypatch.setenv("UPHOLD_PASSWORD", accounts["contact"]["password"])
    out = StringIO()
    call_command("verify", user="contact", stdout=out)
    assert "kestrel: checked the chain head sealed under the record key" in out.getvalue()
    rewrite_chain_from(Process.objects.get(code="kestrel"), 2)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify", user="contact", stdout=StringIO(), stderr=err)
    assert "rewritten after it was sealed" in err.getvalue()


@pytest.mark.tampers  # rewrites the chain
def test_the_audit_page_says_whether_the_chain_holds(people, client_for):
    client = client_for("contact")
    assert "are intact" in client.get(reverse("audit", args=["kestrel"])).content.decode()
    rewrite_chain_from(Process.objects.get(code="kestrel"), 2)
    page = client.get(reverse("audit", args=["kestrel"])).content.decode()
    assert "The chain is broken at event" in page


def test_the_audit_page_names_each_object_in_words(people, client_for):
    from django.utils.formats import date_format

    from uphold.record.models import Entry, Meeting, Step

    entry = Entry.objects.filter(process__code="kestrel").first()
    step = Step.objects.filter(process__code="kestrel", owner="x").first()
    client = client_for("contact")
    # The fixture's events fill more than the newest page: read the first two.
    page = "".join(
        client.get(reverse("audit", args=["kestrel"]), {"page": n}).content.decode() for n in (1, 2)
    )
    assert f"log entry of {date_format(entry.occurred_on, 'DATE_FORMAT')}" in page
    assert "meeting of " in page
    assert f"step: {MARK}record.step.what_x" in page  # opened with the member's keys
    assert "wording 1 of demand 1" in page and "membership of contact" in page
    assert Meeting.objects.filter(process__code="kestrel").exists() and step is not None
    german = client_for("contact")
    german.cookies["django_language"] = "de"
    page = german.get(reverse("audit", args=["kestrel"]), HTTP_ACCEPT_LANGUAGE="de")
    assert "Logbuch-Eintrag vom" in page.content.decode()


def test_verify_for_each_role_on_an_untouched_process_passes_and_says_what_it_checked(
    people, accounts, monkeypatch
):
    for role in ("survivor", "support", "contact", "community", "respondent"):
        monkeypatch.setenv("UPHOLD_PASSWORD", accounts[role]["password"])
        out = StringIO()
        call_command("verify", user=role, stdout=out, stderr=StringIO())
        said = out.getvalue()
        assert "kestrel: checked" in said and "sealed values of the scopes your role reads" in said
        if role in ("support", "contact"):
            assert "kestrel: checked the chain head sealed under the record key" in said
        else:
            assert "kestrel: not checked: the sealed chain head" in said


@pytest.mark.tampers  # alters a sealed value
def test_verify_with_a_survivors_keys_finds_a_sealed_value_that_does_not_open(
    people, accounts, monkeypatch
):
    from uphold.crypto.fields import Sealed
    from uphold.demands.models import Demand

    demand = Demand.objects.filter(process__code="kestrel").first()
    other = Demand.objects.filter(pk=demand.pk).values_list("reasons", flat=True).get()
    # A database writer moves one ciphertext into another column and rehashes nothing: the
    # keyless check already sees the column; the survivor's keys see it does not open.
    Demand.objects.filter(pk=demand.pk).update(wording=Sealed(bytes(other)))
    from uphold.audit.services import verify_opens
    from uphold.crypto.keyring import Keyring
    from uphold.crypto.services import unlock

    survivor = people["survivor"]
    ring = Keyring(survivor.pk, unlock(survivor, accounts["survivor"]["password"]))
    opened = verify_opens(ring, Process.objects.get(code="kestrel"), {"shared"})
    assert opened.damaged and opened.damaged.column == "wording"


@pytest.mark.tampers  # alters an event behind Uphold's back
def test_the_audit_page_checks_the_sealed_head_and_every_event_since(people, client_for):
    """The page's check is bounded: the sealed head, and the events written since it by
    members who hold no record key. An event altered there shows on the page."""
    from uphold.accounts.services import accept_as_member, acting_as, create_user
    from uphold.audit.models import AuditEvent, Checkpoint
    from uphold.processes.services import invite_member

    kestrel = Process.objects.get(code="kestrel")
    _inv, token = invite_member(people["support"], "kestrel", "community")
    newcomer = create_user("newcomer", "a long passphrase here").user
    accept_as_member(acting_as(newcomer), token)  # holds no key: no new sealed head
    head = Checkpoint.objects.get(process=kestrel)
    after = AuditEvent.objects.filter(process=kestrel, seq__gt=head.seq).order_by("seq").last()
    assert after is not None
    client = client_for("contact")
    assert "are intact" in client.get(reverse("audit", args=["kestrel"])).content.decode()
    AuditEvent.objects.filter(pk=after.pk).update(kind="delete")
    page = client.get(reverse("audit", args=["kestrel"])).content.decode()
    assert f"The chain is broken at event {after.seq}" in page


@pytest.mark.tampers  # alters an event behind Uphold's back
def test_an_old_event_altered_is_for_uphold_verify_not_the_page(people, client_for):
    """Honest limit of the page: events before the sealed head are walked by `uphold verify`,
    whose cost grows with the record; the page's does not."""
    from uphold.audit.models import AuditEvent

    kestrel = Process.objects.get(code="kestrel")
    AuditEvent.objects.filter(process=kestrel, seq=2).update(kind="delete")
    page = client_for("contact").get(reverse("audit", args=["kestrel"])).content.decode()
    assert "are intact" in page
    broken = verify(kestrel)
    assert broken is not None and broken.seq == 2
