"""Keys follow roles, never rows: a database writer who inserts key rows, feed rows or public
keys gets nothing sealed to X, and what the group drafts for X is not his until it is sent.

Each attack is performed through the database as the issue describes it; then, with only the
respondent's password and a copy of the database, every ciphertext is tried.
"""

import contextlib
import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from uphold.accounts.models import User
from uphold.accounts.services import (
    accept_as_member,
    acting_as,
    complete_reset,
    create_user,
    issue_reset,
    new_totp_key,
    totp_code,
)
from uphold.crypto import primitives, rotation
from uphold.crypto import services as crypto
from uphold.crypto.fields import process_id_of
from uphold.crypto.keyring import Keyring, NoKey, using
from uphold.crypto.models import ScopeKey, SealedScopeKey, UserKey
from uphold.processes import scopes
from uphold.processes.keycheck import keys_outside_roles
from uphold.processes.models import Membership, Process
from uphold.processes.services import (
    grant_access,
    invite_member,
    remove_member,
    rotate_keys,
)
from uphold.record import calendar
from uphold.record import services as record
from uphold.record.models import CalendarFeed, Confirmation, FeedPlace, meeting_place_scope

from .crypto_tools import every_ciphertext

X_MAY_READ = {scopes.SHARED, scopes.RESPONDENT}


def ring_of(user: User, password: str) -> Keyring:
    return Keyring(user.pk, crypto.unlock(user, password))


def scopes_opened(private_key: bytes, user_id: int, process_id: int, extra_private=()) -> set:
    """With one private key (and any the attacker made himself) and a copy of the database:
    the scopes of every key row, field and feed place that opens."""
    ring = Keyring(user_id, private_key)
    opened = set()
    for row in SealedScopeKey.objects.filter(scope_key__process_id=process_id).select_related(
        "scope_key"
    ):
        for key in (private_key, *extra_private):
            try:
                primitives.open_sealed(key, bytes(row.sealed))
            except primitives.CryptoError:
                continue
            opened.add(row.scope_key.scope)
    for _model, field, instance, raw in every_ciphertext():
        if process_id_of(instance) != process_id:
            continue
        try:
            field.open(instance, raw, ring)
        except (NoKey, primitives.CryptoError):
            continue
        opened.add(field.scope_for(instance))
    for place in FeedPlace.objects.filter(feed__membership__process_id=process_id):
        for key in extra_private:
            try:
                primitives.open_sealed(key, bytes(place.sealed))
            except primitives.CryptoError:
                continue
            opened.add(f"feed:{meeting_place_scope(place.meeting)}")
    return opened


def respondent_opens(people, accounts, extra_private=()) -> set:
    user = people["respondent"]
    private = crypto.unlock(user, accounts["respondent"]["password"])
    kestrel = Process.objects.get(code="kestrel")
    return scopes_opened(private, user.pk, kestrel.pk, extra_private)


def verify_output(user: str | None = None, password: str | None = None, monkeypatch=None):
    out, err = StringIO(), StringIO()
    if password:
        monkeypatch.setenv("UPHOLD_PASSWORD", password)
    args = ["--user", user] if user else []
    try:
        call_command("verify", *args, stdout=out, stderr=err)
        failed = False
    except CommandError:
        failed = True
    return failed, err.getvalue()


def insert_junk_rows(user: User, process: Process, names=("record", "survivor", "community")):
    """Rows a database writer can add without any key material."""
    for scope in names:
        scope_key = ScopeKey.objects.get(process=process, scope=scope, active=True)
        SealedScopeKey.objects.get_or_create(
            scope_key=scope_key,
            user=user,
            defaults={"sealed": b"junk" * 20, "attestation": "ab" * 32},
        )


# 1. Rotation seals to whoever has a row


def test_rotation_seals_nothing_to_junk_key_rows_of_the_respondent(
    people, accounts, client_for, monkeypatch
):
    kestrel = Process.objects.get(code="kestrel")
    insert_junk_rows(people["respondent"], kestrel)
    failed, err = verify_output()
    assert failed
    for scope in ("record", "survivor", "community"):
        assert f"kestrel: {scope} key: respondent" in err
    page = client_for("support").get(reverse("members", args=["kestrel"])).content.decode()
    assert "Keys held outside their role" in page
    assert "respondent, key to the record, which only the support and contact groups" in page
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")
    assert respondent_opens(people, accounts) == X_MAY_READ
    assert verify_output()[0] is False


@pytest.mark.tampers  # changes a role in the database, as the attacker would
def test_rotation_seals_nothing_to_a_respondent_whose_role_was_changed_in_the_database(
    people, accounts, monkeypatch
):
    kestrel = Process.objects.get(code="kestrel")
    insert_junk_rows(people["respondent"], kestrel, names=("record", "survivor", "community"))
    Membership.objects.filter(user=people["respondent"]).update(role="contact")
    # The role check alone is fooled, the attestation is not: only a key holder makes one.
    failed, err = verify_output("support", accounts["support"]["password"], monkeypatch)
    assert failed and "record key: respondent holds a key that no member gave them" in err
    # And the chain names the changed role, so no rotation runs over it (it would re-record
    # every row and hide the change).
    assert "in column role" in err
    keys_before = list(ScopeKey.objects.values_list("pk", "generation", "active"))
    with (
        using(ring_of(people["support"], accounts["support"]["password"])),
        pytest.raises(ValidationError, match="history does not hold"),
    ):
        rotate_keys(people["support"], "kestrel")
    assert list(ScopeKey.objects.values_list("pk", "generation", "active")) == keys_before
    assert respondent_opens(people, accounts) <= X_MAY_READ


def test_rotation_seals_nothing_to_a_public_key_swapped_in_the_database(
    people, accounts, monkeypatch
):
    attacker_public, attacker_private = primitives.new_key_pair()
    UserKey.objects.filter(user=people["contact"]).update(public_key=attacker_public)
    failed, err = verify_output("support", accounts["support"]["password"], monkeypatch)
    assert failed and "contact holds a key that no member gave them, or their key was" in err
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")
    kestrel = Process.objects.get(code="kestrel")
    assert scopes_opened(attacker_private, people["contact"].pk, kestrel.pk) == set()
    # The contact member now shows as waiting for keys, and the fingerprint shown is the
    # attacker's: checking it with the person by phone is what catches it.
    waiting = {a.membership.user.username for a in crypto.access_of(kestrel) if a.missing}
    assert "contact" in waiting


# 2. Calendar places sealed to whoever has a feed row


def _plan(contact, *, x_expected: bool, place: str):
    return record.plan_meeting(
        contact,
        "kestrel",
        planned_at=timezone.now() + timedelta(days=20),
        place=place,
        attendees=[contact],
        x_expected=x_expected,
    )


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_feed_row_forged_on_the_respondent_receives_no_group_place(
    people, accounts, as_member, monkeypatch
):
    public, private = primitives.new_key_pair()
    respondent = Membership.objects.get(user=people["respondent"], process__code="kestrel")
    forged = CalendarFeed.objects.create(
        membership=respondent,
        token_hash="f" * 64,
        with_place=True,
        public_key=public,
        attestation="00" * 32,
        attested_generation=1,
    )
    with as_member("contact") as contact:
        _plan(contact, x_expected=False, place="the group's own room")
        _plan(contact, x_expected=True, place="the café he knows")
    assert not FeedPlace.objects.filter(feed=forged).exists()
    assert respondent_opens(people, accounts, extra_private=[private]) == X_MAY_READ
    failed, err = verify_output("contact", accounts["contact"]["password"], monkeypatch)
    assert failed and "record key: respondent has a calendar link that no member made" in err


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_place_the_member_may_not_read_is_named_by_verify(people, as_member):
    with as_member("contact") as contact:
        feed, _token = calendar.create_feed(contact, "kestrel", with_place=True)
        meeting = _plan(contact, x_expected=False, place="the group's own room")
    assert FeedPlace.objects.filter(feed=feed, meeting=meeting).exists()
    respondent = Membership.objects.get(user=people["respondent"], process__code="kestrel")
    CalendarFeed.objects.filter(pk=feed.pk).update(membership=respondent)  # moved to X
    failed, err = verify_output()
    assert failed and "record key: respondent has a calendar link holding a place" in err


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_feed_whose_public_key_was_swapped_receives_nothing_more(people, as_member):
    with as_member("contact") as contact:
        feed, token = calendar.create_feed(contact, "kestrel", with_place=True)
        first = _plan(contact, x_expected=False, place="room one")
    assert b"room one" in calendar.feed_calendar(token)
    public, _private = primitives.new_key_pair()
    CalendarFeed.objects.filter(pk=feed.pk).update(public_key=public)
    with as_member("contact") as contact:
        second = _plan(contact, x_expected=False, place="room two")
    assert not FeedPlace.objects.filter(feed=feed, meeting=second).exists()
    assert FeedPlace.objects.filter(feed=feed, meeting=first).exists()  # sealed before


def test_a_genuine_feed_keeps_receiving_places_after_the_keys_are_replaced(
    people, accounts, as_member
):
    with as_member("contact") as contact:
        _feed, token = calendar.create_feed(contact, "kestrel", with_place=True)
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")
    with as_member("contact") as contact:
        _plan(contact, x_expected=False, place="after the rotation")
    assert b"after the rotation" in calendar.feed_calendar(token)


# 3. Group content copied into X's scope before it is sent


def _held_meeting(contact):
    meeting = record.plan_meeting(
        contact,
        "kestrel",
        planned_at=timezone.now() - timedelta(hours=3),
        place="the café",
        attendees=[contact],
    )
    record.record_outcome(
        contact, "kestrel", meeting.pk, outcome="held", minutes="GROUP-ONLY minutes", steps=[]
    )
    return meeting


def _confirmation_scopes_x_opens(people, accounts) -> set[str]:
    private = crypto.unlock(people["respondent"], accounts["respondent"]["password"])
    ring = Keyring(people["respondent"].pk, private)
    texts = set()
    for confirmation in Confirmation.objects.all():
        for name in (
            "to_address",
            "subject",
            "body",
            "draft_to_address",
            "draft_subject",
            "draft_body",
        ):
            raw = confirmation.__dict__.get(name)
            if raw is None:
                continue
            field = Confirmation._meta.get_field(name)
            with contextlib.suppress(NoKey, primitives.CryptoError):
                texts.add(field.open(confirmation, raw, ring))
    return texts


def test_an_abandoned_confirmation_draft_never_reaches_xs_scope(
    people, accounts, as_member, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: it fails
    with as_member("contact") as contact:
        meeting = _held_meeting(contact)
        draft = record.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
        failed = record.send_confirmation(
            contact,
            "kestrel",
            draft.pk,
            to_address="x@example.org",
            subject="An EARLIER text",
            body="GROUP-ONLY minutes and an EARLIER text",
        )
    assert failed.state == "failed"
    assert not any(
        "GROUP-ONLY" in t or "EARLIER" in t for t in _confirmation_scopes_x_opens(people, accounts)
    )
    assert respondent_opens(people, accounts) <= X_MAY_READ


def test_only_what_was_sent_is_copied_into_xs_scope(people, accounts, as_member, smtp_server):
    with as_member("contact") as contact:
        meeting = _held_meeting(contact)
        draft = record.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
        record.send_confirmation(
            contact,
            "kestrel",
            draft.pk,
            to_address="x@example.org",
            subject="What we agreed",
            body="The text he received",
        )
    stored = Confirmation.objects.get(pk=draft.pk)
    assert stored.state == "sent"
    assert stored.__dict__["draft_body"] is None and stored.__dict__["draft_subject"] is None
    opened = _confirmation_scopes_x_opens(people, accounts)
    assert {"x@example.org", "What we agreed", "The text he received"} <= opened
    assert not any("GROUP-ONLY" in t for t in opened if "received" not in t)


# Property: random sequences of invite, grant, remove, reset, rotate (killed and resumed) and
# feeds, across all roles; after each step every password opens exactly its role's scopes.


class Killed(Exception):
    pass


def _kill_rotation_midway(support, ring, rng: random.Random, monkeypatch) -> None:
    """Starts a rotation and stops it at a random point, as a SIGKILL would."""
    process = Process.objects.get(code="kestrel")
    held = [s for s in scopes.READERS if ring.holds(process.pk, s)]
    point = rng.choice(["after start", "during move", "during finish"])
    run = rotation.start(ring, process, held, support)
    if point == "after start":
        return
    real_reseal = rotation._reseal
    calls = {"n": 0}
    budget = rng.randint(0, 3)

    def reseal(*args, **kwargs):
        if calls["n"] >= budget:
            raise Killed
        calls["n"] += 1
        return real_reseal(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(rotation, "_reseal", reseal)
        try:
            rotation.move(ring, run)
            if point == "during finish":
                rotation.finish(ring, run)
        except Killed:
            pass


def _expected(membership: Membership, granted: bool) -> set[str]:
    return set(scopes.scopes_of(membership)) if granted else set()


@pytest.mark.tampers  # forges rows in the database, as the attacker would
@pytest.mark.parametrize("seed", range(6))
def test_every_password_opens_exactly_its_roles_scopes_after_any_sequence(
    seed, people, accounts, monkeypatch
):
    rng = random.Random(seed)
    kestrel = Process.objects.get(code="kestrel")
    support = people["support"]
    passwords = {
        u: accounts[r]["password"]
        for r, u in (
            (r, people[r].username)
            for r in ("support", "contact", "survivor", "community", "respondent")
        )
    }
    granted = dict.fromkeys(passwords, True)
    admin = people["admin"]
    attacker_keys = []
    n = 0
    forged = False

    def support_ring():
        return ring_of(support, passwords["support"])

    # Each sequence starts with a grant made while a rotation is interrupted, then goes random.
    actions = ["invite", "kill", "grant", "feed"] + [
        rng.choice(["invite", "grant", "remove", "reset", "rotate", "kill", "feed", "forge"])
        for _ in range(8)
    ]
    for action in actions:
        members = {m.user.username: m for m in kestrel.memberships.select_related("user")}
        others = [name for name in members if name != "support"]
        with using(support_ring()):
            if action == "invite":
                role = rng.choice(["support", "contact", "survivor", "community", "respondent"])
                _inv, token = invite_member(support, "kestrel", role)
                n += 1
                name, password = f"new{seed}x{n}", f"a long passphrase {n}"
                user = create_user(name, password).user
                accept_as_member(acting_as(user), token)
                passwords[name], granted[name] = password, False
            elif action == "grant":
                waiting = [name for name in others if not granted[name]]
                if waiting:
                    name = rng.choice(waiting)
                    target = members[name]
                    grant_access(support, "kestrel", target.pk, crypto.fingerprint_of(target.user))
                    granted[name] = True
            elif action == "remove" and others:
                name = rng.choice(others)
                remove_member(support, "kestrel", members[name].pk)
                granted[name] = False
            elif action == "reset" and others:
                name = rng.choice(others)
                token = issue_reset(admin, members[name].user)
                key = new_totp_key()
                passwords[name] = f"a reset passphrase {name}"
                complete_reset(token, password=passwords[name], totp_key=key, code=totp_code(key))
                granted[name] = False
            elif action == "rotate":
                try:
                    rotate_keys(support, "kestrel")
                except ValidationError as refused:
                    # A forged feed row is outside the chain: no rotation runs over it.
                    assert forged and "history does not hold" in str(refused)
            elif action == "kill":
                try:
                    _kill_rotation_midway(support, support_ring(), rng, monkeypatch)
                except rotation.HistoryBroken:
                    assert forged
            elif action == "feed":
                readers = [
                    m
                    for m in members.values()
                    if scopes.RECORD in scopes.scopes_of(m) and granted[m.user.username]
                ]
                feed_owner = rng.choice(readers or [members["support"]])
                with using(ring_of(feed_owner.user, passwords[feed_owner.user.username])):
                    calendar.create_feed(acting_as(feed_owner.user), "kestrel", with_place=True)
                    if feed_owner.role == "contact":
                        _plan(
                            acting_as(feed_owner.user),
                            x_expected=rng.random() < 0.5,
                            place="a place",
                        )
            elif action == "forge":
                victim = members[rng.choice([*others, "support"])]
                public, private = primitives.new_key_pair()
                attacker_keys.append(private)
                CalendarFeed.objects.create(
                    membership=victim,
                    token_hash=f"{seed}-{n}-{rng.random()}"[:64],
                    with_place=True,
                    public_key=public,
                    attestation="",
                    attested_generation=1,
                )
                insert_junk_rows(victim.user, kestrel, names=[rng.choice(list(scopes.READERS))])
                n += 1
                forged = True
        for membership in kestrel.memberships.select_related("user"):
            name = membership.user.username
            private = crypto.unlock(membership.user, passwords[name])
            opened = scopes_opened(private, membership.user_id, kestrel.pk)
            assert opened == _expected(membership, granted[name]), (seed, action, name)
        # The keys the attacker made for forged feeds open no place and no key.
        for private in attacker_keys:
            assert scopes_opened(private, None, kestrel.pk, [private]) == set()
    # Whatever the sequence, an interrupted rotation resumes and nobody loses their scopes;
    # a new one does not start over a forged row.
    refused = None
    with using(support_ring()):
        try:
            rotate_keys(support, "kestrel")
        except ValidationError as error:
            refused = error
            assert forged and "history does not hold" in str(refused)
    for membership in kestrel.memberships.select_related("user"):
        name = membership.user.username
        private = crypto.unlock(membership.user, passwords[name])
        assert scopes_opened(private, membership.user_id, kestrel.pk) == _expected(
            membership, granted[name]
        )
    # A completed rotation prunes the junk key rows; while one is refused, the members page
    # may keep warning about them.
    if refused is None:
        assert keys_outside_roles(kestrel) == []


def test_a_junk_key_row_does_not_make_a_new_member_look_complete(people, accounts, client_for):
    _inv, token = invite_member(people["support"], "kestrel", "contact")
    newcomer = create_user("glasgow", "a long passphrase here").user
    accept_as_member(acting_as(newcomer), token)
    insert_junk_rows(newcomer, Process.objects.get(code="kestrel"), names=list(scopes.READERS))
    page = client_for("support").get(reverse("members", args=["kestrel"])).content.decode()
    assert "Give glasgow access" in page
    assert (
        "glasgow, key to the record, which only the support and contact groups read: holds" in page
    )


# Keys a database writer seals to members: anyone can seal to a public key, so a key row that
# opens is not trusted unless the member pinned it, it follows by chain from a pinned key, or
# it is the first key the member is ever given in the process.


def seal_forged(scope_key: ScopeKey, user: User, key: bytes) -> None:
    """What a database writer can do with public keys alone: seal a key of his own to a member
    (in place of what they hold), "attested" under that same key, with no pin."""
    public = bytes(UserKey.objects.get(user=user).public_key)
    context = primitives.scope_key_context(
        scope_key.process_id, scope_key.scope, scope_key.generation
    )
    SealedScopeKey.objects.update_or_create(
        scope_key=scope_key,
        user=user,
        defaults={
            "sealed": primitives.seal_to(public, context + key),
            "attestation": crypto._attestation(key, scope_key, user.pk, public),
            "holder_mac": "",
        },
    )


def forge_generation(process: Process, scope: str, generation: int, key: bytes, users):
    """A new generation of a scope key, sealed and "attested" to users, all without any key."""
    scope_key = ScopeKey.objects.create(
        process=process, scope=scope, generation=generation, active=False
    )
    for user in users:
        seal_forged(scope_key, user, key)
    return scope_key


def forge_feed(membership: Membership, key: bytes, generation: int) -> CalendarFeed:
    """A calendar link with a public key of the attacker's, attested under `key`."""
    public, _private = primitives.new_key_pair()
    feed = CalendarFeed.objects.create(
        membership=membership,
        token_hash=primitives.random_key().hex(),
        with_place=True,
        public_key=public,
        attested_generation=generation,
    )
    CalendarFeed.objects.filter(pk=feed.pk).update(
        attestation=calendar._attestation(key, feed, generation)
    )
    return feed


def opened_under(key: bytes, process: Process) -> int:
    from uphold.crypto.fields import HEADER, associated_data

    opened = 0
    for _model, field, instance, raw in every_ciphertext():
        if process_id_of(instance) != process.pk:
            continue
        scope = field.scope_for(instance)
        with contextlib.suppress(primitives.CryptoError):
            primitives.decrypt(key, bytes(raw)[HEADER:], associated_data(instance, field, scope))
            opened += 1
    return opened


def test_a_generation_inserted_in_the_database_is_never_written_under(
    people, accounts, monkeypatch
):
    kestrel = Process.objects.get(code="kestrel")
    forged = primitives.random_key()
    for scope in ("record", "survivor", "community"):
        forge_generation(kestrel, scope, 1000, forged, [people["support"], people["contact"]])
    failed, err = verify_output("support", accounts["support"]["password"], monkeypatch)
    assert failed and "support holds a key that does not follow from the keys they trust" in err
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")
    assert opened_under(forged, kestrel) == 0
    inbox = kestrel.inbox
    with pytest.raises(primitives.CryptoError):
        primitives.decrypt(forged, bytes(inbox.private_sealed), crypto._inbox_ad(kestrel.pk))
    with using(ring_of(people["contact"], accounts["contact"]["password"])):
        assert Process.objects.get(pk=kestrel.pk).title.startswith("MARKER")


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_finishing_a_rotation_hands_x_nothing_from_a_forged_older_generation(people, accounts):
    support_ring = ring_of(people["support"], accounts["support"]["password"])
    with using(support_ring):
        rotate_keys(people["support"], "kestrel")
    kestrel = Process.objects.get(code="kestrel")
    x = Membership.objects.get(process=kestrel, user=people["respondent"])
    Membership.objects.filter(pk=x.pk).update(role="support")
    rotation.Rotation.objects.create(
        process=kestrel, scopes="record,survivor,community", started_by=people["support"]
    )
    users = [people["support"], people["contact"], people["respondent"]]
    for scope in ("record", "survivor", "community"):
        forge_generation(kestrel, scope, 0, primitives.random_key(), users)
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")  # "Finish replacing the keys"
    Membership.objects.filter(pk=x.pk).update(role="respondent")
    SealedScopeKey.objects.filter(scope_key__generation=0).delete()
    assert respondent_opens(people, accounts) == X_MAY_READ


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_forged_generation_gives_a_forged_feed_no_place(people, accounts, as_member):
    kestrel = Process.objects.get(code="kestrel")
    forged = primitives.random_key()
    forge_generation(kestrel, "record", 777, forged, [people["support"], people["contact"]])
    support = Membership.objects.get(process=kestrel, user=people["support"])
    feed = forge_feed(support, forged, 777)
    with as_member("contact") as contact:
        _plan(contact, x_expected=False, place="the group's own room")
    assert not FeedPlace.objects.filter(feed=feed).exists()


def test_a_replaced_key_of_the_rotator_hands_x_nothing(people, accounts):
    kestrel = Process.objects.get(code="kestrel")
    support, x = people["support"], people["respondent"]
    record_key = ScopeKey.objects.get(process=kestrel, scope="record", active=True)
    genuine = SealedScopeKey.objects.get(scope_key=record_key, user=support)
    kept = (bytes(genuine.sealed), genuine.attestation, genuine.holder_mac)
    forged = primitives.random_key()
    for user in (support, x):
        seal_forged(record_key, user, forged)
    Membership.objects.filter(process=kestrel, user=x).update(role="support")
    # The replaced key is not the one support pinned: it is not used, so record is not
    # replaced with it and nothing is carried over on its say-so. (The role changed in the
    # database stops the rotation before it, too.)
    with (
        using(ring_of(support, accounts["support"]["password"])),
        pytest.raises(ValidationError),
    ):
        rotate_keys(support, "kestrel")
    assert ScopeKey.objects.get(process=kestrel, scope="record", active=True) == record_key
    Membership.objects.filter(process=kestrel, user=x).update(role="respondent")
    SealedScopeKey.objects.filter(pk=genuine.pk).update(
        sealed=kept[0], attestation=kept[1], holder_mac=kept[2]
    )
    SealedScopeKey.objects.filter(scope_key=record_key, user=x).delete()
    with using(ring_of(support, accounts["support"]["password"])):
        rotate_keys(support, "kestrel")
    assert respondent_opens(people, accounts) == X_MAY_READ


def test_a_first_key_that_opens_nothing_stored_is_never_handed_on(people, accounts, client_for):
    """A newcomer trusts the first keys they are given; a database writer may seal keys of his
    own to them before the group does. Replacing the keys with such a key is refused."""
    _inv, token = invite_member(people["support"], "kestrel", "contact")
    newcomer = create_user("glasgow", "a long passphrase here").user
    accept_as_member(acting_as(newcomer), token)
    kestrel = Process.objects.get(code="kestrel")
    forged = primitives.random_key()
    for scope in scopes.READERS:
        seal_forged(
            ScopeKey.objects.get(process=kestrel, scope=scope, active=True), newcomer, forged
        )
    with (
        using(ring_of(newcomer, "a long passphrase here")),
        pytest.raises(ValidationError),
    ):
        rotate_keys(acting_as(newcomer), "kestrel")
    assert respondent_opens(people, accounts) == X_MAY_READ
    assert ScopeKey.objects.filter(process=kestrel, active=False).count() == 0


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_chain_head_sealed_under_a_forged_key_is_named(people, accounts):
    from uphold.audit import services as audit
    from uphold.audit.models import AuditEvent, Checkpoint

    kestrel = Process.objects.get(code="kestrel")
    forged = primitives.random_key()
    forge_generation(kestrel, "record", 777, forged, [people["support"]])
    AuditEvent.objects.filter(process=kestrel).order_by("-seq").first().delete()
    head = AuditEvent.objects.filter(process=kestrel).order_by("-seq").first()
    Checkpoint.objects.filter(process=kestrel).update(
        seq=head.seq,
        digest=head.digest,
        key_generation=777,
        mac=audit._head_mac(forged, kestrel.pk, head.seq, head.digest),
    )
    problem = audit.verify_with_key(
        ring_of(people["support"], accounts["support"]["password"]), kestrel
    )
    assert problem is not None and "sealed chain head" in problem.reason


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_retired_key_marked_active_again_is_not_written_under(people, accounts):
    """A former member kept the old keys; moving the 'active' mark back to that generation
    must not make the remaining members write what those keys open."""
    from .rotation_tools import remove_keeping_copies
    from .test_rotation import opened_with_kept_keys

    kept = remove_keeping_copies(people["support"], "contact", accounts["contact"]["password"])
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")
    assert opened_with_kept_keys(kept) == 0
    kestrel = Process.objects.get(code="kestrel")
    for scope in scopes.READERS:
        ScopeKey.objects.filter(process=kestrel, scope=scope).update(active=False)
        ScopeKey.objects.filter(process=kestrel, scope=scope, generation=1).update(active=True)
    with using(ring_of(people["support"], accounts["support"]["password"])):
        kestrel = Process.objects.get(code="kestrel")
        kestrel.title = "written after the mark was moved"
        with contextlib.suppress(NoKey), transaction.atomic():
            kestrel.save(update_fields=["title"])
    assert opened_with_kept_keys(kept) == 0


def test_blanked_pins_do_not_make_members_trust_a_forged_newer_key(people, accounts):
    kestrel = Process.objects.get(code="kestrel")
    forged = primitives.random_key()
    users = [people["support"], people["contact"], people["respondent"]]
    ScopeKey.objects.filter(process=kestrel, scope="record").update(active=False)
    forge_generation(kestrel, "record", 2, forged, users)
    ScopeKey.objects.filter(process=kestrel, scope="record", generation=2).update(active=True)
    SealedScopeKey.objects.filter(scope_key__process=kestrel).update(holder_mac="")
    support_ring = ring_of(people["support"], accounts["support"]["password"])
    assert support_ring.scope_key(kestrel.pk, "record")[0] == 1  # first use: the oldest only
    with using(support_ring):
        process = Process.objects.get(pk=kestrel.pk)
        process.title = "written after the attack"
        with contextlib.suppress(NoKey), transaction.atomic():  # refused: not the active key
            process.save(update_fields=["title"])
    assert opened_under(forged, kestrel) == 0


def _leaver_and_rotation(people, accounts):
    """A second contact member joins, is given access, copies their keys, and is removed; the
    keys are replaced. Returns their membership, key rows and kept keys, as copied then."""
    _inv, token = invite_member(people["support"], "kestrel", "contact")
    leaver = create_user("leaver", "a long passphrase here").user
    membership = accept_as_member(acting_as(leaver), token)
    with using(ring_of(people["support"], accounts["support"]["password"])):
        grant_access(people["support"], "kestrel", membership.pk, crypto.fingerprint_of(leaver))
    private = crypto.unlock(leaver, "a long passphrase here")
    crypto.pin_own_keys(leaver.pk, private)
    rows = list(SealedScopeKey.objects.filter(user=leaver).select_related("scope_key"))
    kept = {(r.scope_key.scope, r.scope_key.generation): bytes(r.sealed) for r in rows}
    remove_member(people["support"], "kestrel", membership.pk)
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")
    return membership, rows, {"private": private, "sealed": kept, "user": leaver}


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_feed_and_a_chain_head_made_under_a_retired_key_are_refused(people, accounts, as_member):
    from uphold.audit import services as audit
    from uphold.audit.models import Checkpoint

    _contact, _rows, kept = _leaver_and_rotation(people, accounts)
    record_key = primitives.open_sealed(kept["private"], kept["sealed"][("record", 1)])[-32:]
    kestrel = Process.objects.get(code="kestrel")
    support = Membership.objects.get(process=kestrel, user=people["support"])
    feed = forge_feed(support, record_key, 1)
    with as_member("contact") as member:
        _plan(member, x_expected=False, place="the group's room")
    assert not FeedPlace.objects.filter(feed=feed).exists()
    point = Checkpoint.objects.get(process=kestrel)
    Checkpoint.objects.filter(pk=point.pk).update(
        key_generation=1, mac=audit._head_mac(record_key, kestrel.pk, point.seq, point.digest)
    )
    ring = ring_of(people["support"], accounts["support"]["password"])
    assert audit.verify_with_key(ring, kestrel) is not None


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_forged_finish_gives_a_restored_leaver_nothing(people, accounts):
    contact, rows, kept = _leaver_and_rotation(people, accounts)
    contact.save(force_insert=True)  # put back from an old copy of the database
    for row in rows:
        row.save(force_insert=True)
    kestrel = Process.objects.get(code="kestrel")
    rotation.Rotation.objects.create(
        process=kestrel, scopes="record,survivor,community", started_by=people["support"]
    )
    with using(ring_of(people["support"], accounts["support"]["password"])):
        rotate_keys(people["support"], "kestrel")  # "Finish replacing the keys"
    leaver = Keyring(kept["user"].pk, kept["private"])
    newest = ScopeKey.objects.get(process=kestrel, scope="record", active=True).generation
    with pytest.raises(NoKey):
        leaver.scope_key(kestrel.pk, "record", newest)


def test_a_long_forged_chain_does_not_break_the_keyring(people, accounts):
    kestrel = Process.objects.get(code="kestrel")
    for generation in range(2, 300):
        scope_key = forge_generation(
            kestrel, "record", generation, primitives.random_key(), [people["support"]]
        )
        ScopeKey.objects.filter(pk=scope_key.pk).update(
            chain_from=generation - 1, chain_mac="00" * 32
        )
    ring = ring_of(people["support"], accounts["support"]["password"])
    assert ring.scope_key(kestrel.pk, "record")[0] == 1


# A role changed in the database, with an event forged onto the end of the chain to match.


def _x_made_a_contact_member(people, accounts) -> Membership:
    """The writer's whole attack on roles: X's role becomes `contact` in the database, he holds
    an attested copy of the record key (as a grant made while his row said so would have left),
    and an event appended to the chain records the new role, its links recomputed as anyone
    can."""
    from uphold.audit import services as audit
    from uphold.audit.models import Kind

    kestrel = Process.objects.get(code="kestrel")
    x = Membership.objects.get(user=people["respondent"], process=kestrel)
    Membership.objects.filter(pk=x.pk).update(role="contact")
    x.refresh_from_db()
    support = ring_of(people["support"], accounts["support"]["password"])
    generation, key = support.scope_key(kestrel.pk, scopes.RECORD)
    row = ScopeKey.objects.get(process=kestrel, scope=scopes.RECORD, generation=generation)
    crypto.seal_scope_key(row, key, x)
    audit.record(people["respondent"], kestrel, Kind.CHANGE, x)  # no key held: no checkpoint
    return x


@pytest.mark.tampers  # forges rows in the database, as the attacker would
def test_a_role_changed_with_a_forged_event_is_named_and_stops_the_rotation(
    people, accounts, monkeypatch
):
    _x_made_a_contact_member(people, accounts)
    # The row matches the chain's last event about it; the chain still names it, because no
    # part of Uphold changes a role.
    failed, err = verify_output()
    assert failed
    assert "records another role for processes.membership" in err
    with (
        using(ring_of(people["support"], accounts["support"]["password"])),
        pytest.raises(ValidationError, match="history does not hold"),
    ):
        rotate_keys(people["support"], "kestrel")
    kestrel = Process.objects.get(code="kestrel")
    assert ScopeKey.objects.filter(process=kestrel, generation__gt=1).count() == 0


def test_the_rotations_own_re_recording_leaves_a_changed_clear_column_for_verify(
    people, accounts, as_member
):
    """Between a rotation's start and its end a writer changes a step's status: finishing
    re-records only the re-sealed ciphertexts, so verify still names the status."""
    from uphold.audit.services import verify
    from uphold.record.models import Step

    kestrel = Process.objects.get(code="kestrel")
    support = people["support"]
    ring = ring_of(support, accounts["support"]["password"])
    held = [s for s in scopes.READERS if ring.holds(kestrel.pk, s)]
    with using(ring):
        run = rotation.start(ring, kestrel, held, support)
        rotation.move(ring, run)
        step = Step.objects.filter(process=kestrel).first()
        Step.objects.filter(pk=step.pk).update(status="done" if step.status != "done" else "open")
        rotation.finish(ring, run)
    broken = verify(kestrel)
    assert broken is not None
    assert (broken.object_type, broken.object_id, broken.column) == (
        "record.step",
        str(step.pk),
        "status",
    )
    Step.objects.filter(pk=step.pk).update(status=step.status)  # put back, as found
    assert verify(kestrel) is None


@pytest.mark.tampers  # rewrites an audit event, as the attacker would
def test_rotation_is_refused_while_the_chain_is_broken(people, accounts):
    from uphold.audit.models import AuditEvent

    kestrel = Process.objects.get(code="kestrel")
    event = AuditEvent.objects.filter(process=kestrel).order_by("seq")[3]
    AuditEvent.objects.filter(pk=event.pk).update(kind="delete")
    keys_before = list(ScopeKey.objects.values_list("pk", "generation", "active"))
    with (
        using(ring_of(people["support"], accounts["support"]["password"])),
        pytest.raises(ValidationError, match="history does not hold"),
    ):
        rotate_keys(people["support"], "kestrel")
    assert list(ScopeKey.objects.values_list("pk", "generation", "active")) == keys_before
