"""Encryption at rest: what each key opens, and that nothing else opens anything."""

import hashlib

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from uphold.crypto import primitives, services
from uphold.crypto.fields import process_id_of
from uphold.crypto.keyring import Keyring, NoKey, using
from uphold.crypto.models import ProcessInbox, SealedScopeKey, UserKey
from uphold.processes import scopes
from uphold.processes.models import Membership, Process
from uphold.reflections.models import QUESTION_NAMES

from .conftest import MARK, password_change
from .crypto_tools import encrypted_field_labels, every_ciphertext, open_everything


def keyring_of(user, password: str) -> Keyring:
    return Keyring(user.pk, services.unlock(user, password))


def test_the_password_opens_the_private_key_and_a_wrong_one_does_not(people, accounts):
    assert len(services.unlock(people["contact"], accounts["contact"]["password"])) == 32
    with pytest.raises(primitives.CryptoError):
        services.unlock(people["contact"], "not the password")


def test_the_recovery_words_open_the_same_private_key(db):
    from uphold.accounts.services import create_user

    account = create_user("wren", "a long passphrase here")
    assert len(account.recovery_words.split()) == 24
    by_words = services.unlock_with_recovery(account.user, account.recovery_words)
    assert by_words == services.unlock(account.user, "a long passphrase here")
    wrong = account.recovery_words.split()
    wrong[0], wrong[1] = wrong[1], wrong[0]
    with pytest.raises(primitives.CryptoError):
        services.unlock_with_recovery(account.user, " ".join(wrong))


def test_kdf_parameters_are_stored_with_the_key(people):
    key = UserKey.objects.get(user=people["contact"])
    expected = primitives.kdf_params()
    assert (key.kdf_opslimit, key.kdf_memlimit) == (expected.opslimit, expected.memlimit)
    assert settings.UPHOLD_ARGON2_PROFILE == "test"


def test_production_derives_keys_with_at_least_64_mib(settings):
    settings.UPHOLD_ARGON2_PROFILE = "production"
    assert primitives.kdf_params().memlimit >= 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [(3, 2**40), (2**31 - 1, 64 * 1024 * 1024), (4, 8192), (3, 64 * 1024 * 1024 + 1), (0, 8192)],
)
def test_stored_argon2_parameters_beyond_the_servers_own_are_refused_before_deriving(
    people, accounts, monkeypatch, opslimit, memlimit
):
    UserKey.objects.filter(user=people["contact"]).update(
        kdf_opslimit=opslimit, kdf_memlimit=memlimit
    )

    def derive(*args, **kwargs):
        raise AssertionError("a key was derived with parameters out of bounds")

    monkeypatch.setattr(primitives.argon2id, "kdf", derive)
    with pytest.raises(primitives.UnsafeKdfParams):
        services.unlock(people["contact"], accounts["contact"]["password"])


def test_keys_sealed_under_either_argon2_profile_open_under_the_other(db, settings):
    from uphold.accounts.services import create_user

    for made, opened in (("production", "test"), ("test", "production")):
        settings.UPHOLD_ARGON2_PROFILE = made
        account = create_user(f"wren-{made}", "a long passphrase here")
        settings.UPHOLD_ARGON2_PROFILE = opened
        assert len(services.unlock(account.user, "a long passphrase here")) == 32


def test_a_password_change_reseals_the_same_key(client_for, people, accounts):
    before = services.unlock(people["contact"], accounts["contact"]["password"])
    client = client_for("contact")
    new = "another long passphrase"
    response = client.post(reverse("password"), password_change(accounts["contact"], new))
    assert response.status_code == 302
    assert services.unlock(people["contact"], new) == before
    with pytest.raises(primitives.CryptoError):
        services.unlock(people["contact"], accounts["contact"]["password"])


SHARED_FIELDS = {
    "processes.process.survivor_term",
    "processes.process.respondent_term",
    "attachments.attachment.name",  # the letter as sent
    "attachments.attachmentchunk.data",
    "demands.letter.text",
    "demands.letter.handed_to",
    "demands.letterversion.text",
    "demands.letterversion.handed_to",
    "demands.demand.wording",
    "demands.demand.reasons",
    "demands.demand.criteria",
}
SURVIVOR_FIELDS = {
    *(
        f"demands.{model}.{name}"
        for model in ("demandversion", "changeproposal")
        for name in ("wording", "reasons", "criteria", "why")
    ),
    "demands.changeproposal.answer",
    "demands.progress.note",
    # A review released to the survivor's side: a copy under their scope.
    *(
        f"reflections.releasedreview.{name}_{part}"
        for name in QUESTION_NAMES
        for part in ("quotes", "note")
    ),
    "survivor.preferences.avoid",
    "survivor.withholding.what",
    "survivor.withholding.from_whom",
    "survivor.itemrequest.what",
    "survivor.itemrequest.answer",
    "survivor.releaseditem.text",
}
RECORD_FIELDS = {
    "processes.process.title",
    "mailin.mailkey.key",
    "mailin.address.address",
    "mailin.previewitem.label",
    "mailin.previewitem.choice",
    *(f"mailin.imapaccount.{name}" for name in ("host", "username", "password", "folder")),
    "processes.processgroup.place",
    "attachments.attachment.name",
    "attachments.attachmentchunk.data",
    "demands.answer.note",
    *(f"record.{m}.{n}" for m in ("entry", "entryversion") for n in ("summary", "text", "people")),
    "record.entryversion.why",
    "record.meeting.minutes",
    "record.step.what_group",
    "record.step.evidence",
    "record.stepchange.reason",
    *(f"record.confirmation.draft_{n}" for n in ("to_address", "subject", "body")),
    *(f"people.person.{n}" for n in ("name", "notes", "answer")),
    "people.informing.note",
    "people.stancechange.note",
    "reflections.reflection.text",
    *(
        f"reflections.{model}.{name}_{part}"
        for model in ("review", "reviewversion")
        for name in QUESTION_NAMES
        for part in ("quotes", "note")
    ),
    "programmes.referral.other_name",
    "programmes.referralchange.reasons",
    "programmes.referralchange.note",
    "reports.reportdraft.text",
}
# What X reads beyond the demands: his steps, where meetings are, confirmations sent to him.
RESPONDENT_FIELDS = {
    "record.meeting.place",
    "record.step.what_x",
    "record.confirmation.to_address",
    "record.confirmation.subject",
    "record.confirmation.body",
}
# A released report: a report-back under `community`, an update under `survivor` (the
# fixture has one of each; tests/test_reports.py checks which row each role opens).
RELEASED_FIELDS = {"reports.releasedreport.text"}
GROUP_FIELDS = SHARED_FIELDS | SURVIVOR_FIELDS | RECORD_FIELDS | RESPONDENT_FIELDS | RELEASED_FIELDS
ROLE_OPENS = {
    "support": GROUP_FIELDS,
    "contact": GROUP_FIELDS,
    "survivor": SHARED_FIELDS | SURVIVOR_FIELDS | RELEASED_FIELDS,
    "community": SHARED_FIELDS | RELEASED_FIELDS,
    "respondent": SHARED_FIELDS | RESPONDENT_FIELDS,
    "outsider": set(),
    "admin": set(),
}
# A version and an applied proposal hold the demand's own text: the same text in three places.
SAME_TEXT = {
    f"demands.{model}.{name}": {
        f"demands.{m}.{name}" for m in ("demand", "demandversion", "changeproposal")
    }
    for model in ("demand", "demandversion", "changeproposal")
    for name in ("wording", "reasons", "criteria")
} | {
    f"demands.{model}.why": {"demands.demandversion.why", "demands.changeproposal.why"}
    for model in ("demandversion", "changeproposal")
}
# A version of the letter holds the letter's text, and to whom it was handed.
SAME_TEXT |= {
    f"demands.{model}.{name}": {f"demands.letter.{name}", f"demands.letterversion.{name}"}
    for model in ("letter", "letterversion")
    for name in ("text", "handed_to")
}

# A released review is a copy of the review's text under the survivor's scope.
SAME_TEXT |= {
    f"reflections.releasedreview.{name}_{part}": {f"reflections.review.{name}_{part}"}
    for name in QUESTION_NAMES
    for part in ("quotes", "note")
}


@pytest.mark.parametrize("role", list(ROLE_OPENS))
def test_each_role_opens_exactly_what_its_scopes_allow(role, people, accounts):
    """With one member's password and a copy of the database, open everything possible."""
    kestrel = Process.objects.get(code="kestrel")
    opened = open_everything(keyring_of(people[role], accounts[role]["password"]), kestrel.pk)
    assert set(opened) == ROLE_OPENS[role]
    for label, texts in opened.items():
        for text in texts:
            allowed = {MARK + same for same in SAME_TEXT.get(label, {label})}
            assert text in allowed, f"a marker opened in the wrong field: {text} in {label}"


def test_the_scope_test_covers_every_encrypted_field():
    covered = set().union(*ROLE_OPENS.values())
    assert encrypted_field_labels() == covered, (
        "a new encrypted field: fill it with a marker in the fixtures and add it to ROLE_OPENS"
    )


def test_scope_keys_are_sealed_exactly_to_the_roles_that_read_them(people):
    process = Process.objects.get(code="kestrel")
    for membership in process.memberships.all():
        held = set(
            SealedScopeKey.objects.filter(
                user=membership.user, scope_key__process=process
            ).values_list("scope_key__scope", flat=True)
        )
        assert held == set(scopes.scopes_of(membership)), membership.role


def test_what_the_server_holds_opens_nothing(people):
    """Settings, the secret key and the database: no key among them opens any ciphertext."""
    candidates = {
        hashlib.sha256(settings.SECRET_KEY.encode()).digest(),
        settings.SECRET_KEY.encode()[:32],
    }
    for key in UserKey.objects.all():
        candidates |= {bytes(key.public_key), bytes(key.password_salt).ljust(32, b"\0")}
    for inbox in ProcessInbox.objects.all():
        candidates.add(bytes(inbox.public_key))
    opened = 0
    ciphertexts = list(every_ciphertext())
    assert ciphertexts
    for _model, field, instance, raw in ciphertexts:
        for key in candidates:
            ring = Keyring(None, None)
            for scope in scopes.READERS:
                ring.remember(process_id_of(instance), scope, 1, key)
            try:
                field.open(instance, raw, ring)
                opened += 1
            except primitives.CryptoError:
                pass
    assert opened == 0
    assert open_everything(Keyring(None, None)) == {}


@pytest.mark.tampers  # moves a ciphertext in the database
def test_a_ciphertext_moved_to_another_row_fails_loudly(people, accounts):
    kestrel_raw = Process.objects.filter(code="kestrel").values_list("title", flat=True).get()
    Process.objects.filter(code="heron").update(title=kestrel_raw)
    heron = Process.objects.get(code="heron")
    # heron's own member holds heron's record key: kestrel's text does not open under it.
    outsider = keyring_of(people["outsider"], accounts["outsider"]["password"])
    with using(outsider), pytest.raises(primitives.CryptoError):
        _ = heron.title
    # Even kestrel's own key does not open it in heron's row: the row is part of the seal.
    support = keyring_of(people["support"], accounts["support"]["password"])
    _generation, record = support.scope_key(Process.objects.get(code="kestrel").pk, "record")
    forced = Keyring(None, None)
    forced.remember(heron.pk, "record", 1, record)
    with pytest.raises(primitives.CryptoError):
        Process._meta.get_field("title").open(heron, bytes(kestrel_raw), forced)


def test_a_ciphertext_moved_to_another_scope_fails_loudly(people, accounts):
    support = keyring_of(people["support"], accounts["support"]["password"])
    kestrel = Process.objects.get(code="kestrel")
    field = Process._meta.get_field("title")
    raw = kestrel.__dict__["title"]
    assert field.open(kestrel, raw, support) == MARK + "processes.process.title"
    field.scope = "community"
    try:
        with pytest.raises(primitives.CryptoError):
            field.open(kestrel, raw, support)
    finally:
        field.scope = "record"


def test_someone_who_joins_by_link_reads_nothing_until_given_access(people, accounts):
    from uphold.accounts.services import accept_as_member, create_user
    from uphold.processes.services import grant_access, invite_member

    _inv, token = invite_member(people["support"], "kestrel", "contact")
    newcomer = create_user("glasgow", "a long passphrase here").user
    from uphold.accounts.services import acting_as

    membership = accept_as_member(acting_as(newcomer), token)
    ring = keyring_of(newcomer, "a long passphrase here")
    assert open_everything(ring) == {}
    with using(keyring_of(people["support"], accounts["support"]["password"])):
        fingerprint = services.fingerprint_of(newcomer)
        assert grant_access(people["support"], "kestrel", membership.pk, fingerprint) == []
    opened = open_everything(keyring_of(newcomer, "a long passphrase here"))
    assert set(opened) == ROLE_OPENS["contact"]


def test_removing_a_member_deletes_their_sealed_keys(people, accounts):
    from uphold.processes.services import remove_member

    contact = Membership.objects.get(process__code="kestrel", role="contact")
    remove_member(people["support"], "kestrel", contact.pk)
    assert not SealedScopeKey.objects.filter(user=people["contact"]).exists()
    assert open_everything(keyring_of(people["contact"], accounts["contact"]["password"])) == {}


def test_the_process_inbox_opens_only_for_record_readers(people, accounts):
    kestrel = Process.objects.get(code="kestrel")
    sealed = services.seal_to_inbox(kestrel, b"a question from someone around him")
    contact = keyring_of(people["contact"], accounts["contact"]["password"])
    assert (
        services.open_from_inbox(contact, kestrel, sealed) == b"a question from someone around him"
    )
    respondent = keyring_of(people["respondent"], accounts["respondent"]["password"])
    with pytest.raises(NoKey):
        services.open_from_inbox(respondent, kestrel, sealed)


def test_the_session_store_alone_does_not_hold_the_private_key(client_for, people, accounts):
    from django.contrib.sessions.models import Session

    from uphold.crypto import sessions

    client = client_for("contact")
    private = services.unlock(people["contact"], accounts["contact"]["password"])
    stored = Session.objects.get(session_key=client.session.session_key).session_data
    assert private.hex() not in stored
    import base64

    assert base64.b64encode(private).decode() not in stored
    # Without the cookie, the session opens no key: the page shows no title.
    page = client.get(reverse("process", args=["kestrel"])).content.decode()
    assert MARK in page
    del client.cookies[sessions.cookie_name()]
    page = client.get(reverse("process", args=["kestrel"])).content.decode()
    assert MARK not in page


def test_logout_clears_the_key_cookie(client_for):
    from uphold.crypto import sessions

    client = client_for("contact")
    response = client.post(reverse("logout"))
    assert response.cookies[sessions.cookie_name()].value == ""


def test_a_real_login_holds_the_key_for_the_session(accounts):
    from .test_login import post_login

    client = Client()
    assert post_login(client, accounts["support"]).status_code == 302
    page = client.get(reverse("process", args=["kestrel"])).content.decode()
    assert MARK + "processes.process.title" in page


def test_the_site_admin_opens_no_process_page(client_for):
    admin = client_for("admin")
    for name in ("process", "members", "audit"):
        assert admin.get(reverse(name, args=["kestrel"])).status_code == 404


def test_a_grant_needs_the_fingerprint_checked_with_the_person(people, accounts, client_for):
    from django.core.exceptions import ValidationError

    from uphold.accounts.services import accept_as_member, acting_as, create_user
    from uphold.processes.services import grant_access, invite_member

    from .conftest import database_state

    _inv, token = invite_member(people["support"], "kestrel", "contact")
    newcomer = create_user("glasgow", "a long passphrase here").user
    membership = accept_as_member(acting_as(newcomer), token)
    client = client_for("support")
    url = reverse("member-grant", args=["kestrel", membership.pk])
    before = database_state()
    right = services.fingerprint_of(newcomer)
    client.post(url, {"fingerprint": right})  # box not ticked
    client.post(url, {"fingerprint": "AAAA-BBBB-CCCC-DDDD", "checked": "yes"})
    assert database_state() == before
    # A key swapped in the database after the check does not receive anything.
    UserKey.objects.filter(user=newcomer).update(public_key=primitives.new_key_pair()[0])
    support = keyring_of(people["support"], accounts["support"]["password"])
    with using(support), pytest.raises(ValidationError):
        grant_access(people["support"], "kestrel", membership.pk, right)
    page = client.get(reverse("members", args=["kestrel"])).content.decode()
    assert services.fingerprint_of(newcomer) in page


def test_a_sealed_scope_key_moved_to_another_scope_is_refused(people, accounts):
    from uphold.crypto.models import ScopeKey

    kestrel = Process.objects.get(code="kestrel")
    user = people["contact"]
    record = SealedScopeKey.objects.get(
        user=user, scope_key__process=kestrel, scope_key__scope="record"
    )
    community = ScopeKey.objects.get(process=kestrel, scope="community", active=True)
    SealedScopeKey.objects.filter(user=user, scope_key=community).update(sealed=record.sealed)
    ring = keyring_of(user, accounts["contact"]["password"])
    with pytest.raises((primitives.CryptoError, NoKey)):
        ring.scope_key(kestrel.pk, "community")
    with pytest.raises(primitives.CryptoError):
        ring.scope_key(kestrel.pk, "community", community.generation)
