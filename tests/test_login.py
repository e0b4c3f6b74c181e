"""Logging in needs password and code together; ten failures lock that account only."""

import time

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from uphold.accounts.models import User
from uphold.accounts.services import REAUTH_AT, set_active, unlock
from uphold.crypto.models import UserKey

from .conftest import code_for, database_state, log_in, password_change


def post_login(client: Client, account: dict, *, password=None, code=None):
    return client.post(
        reverse("login"),
        {
            "username": account["username"],
            "password": account["password"] if password is None else password,
            "code": code_for(account) if code is None else code,
        },
    )


def logged_in(client: Client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_password_and_code_log_in_with_a_new_session_id(accounts):
    client = Client()
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    response = post_login(client, accounts["contact"])
    assert response.status_code == 302
    assert client.session.session_key != before
    assert logged_in(client)


def test_a_correct_password_without_the_code_does_not_log_in(accounts):
    client = Client()
    response = post_login(client, accounts["contact"], code="")
    assert response.status_code == 400
    assert not logged_in(client)


def test_a_wrong_code_does_not_log_in(accounts):
    client = Client()
    wrong = f"{(int(code_for(accounts['contact'])) + 1) % 1_000_000:06d}"
    assert post_login(client, accounts["contact"], code=wrong).status_code == 400
    assert not logged_in(client)


def test_a_code_cannot_be_used_twice(accounts):
    first, second = Client(), Client()
    code = code_for(accounts["support"])
    assert post_login(first, accounts["support"], code=code).status_code == 302
    assert post_login(second, accounts["support"], code=code).status_code == 400
    assert not logged_in(second)


SPENT = {"en": "This code was used already", "de": "Dieser Code wurde schon benutzt"}
GENERIC = {"en": "That username, password or code is wrong.", "de": "Benutzername, Passwort"}


def test_a_code_used_already_says_so_and_does_not_count_toward_the_lock(accounts):
    code = code_for(accounts["support"])
    assert post_login(Client(), accounts["support"], code=code).status_code == 302
    for lang, message in SPENT.items():
        client = Client(HTTP_ACCEPT_LANGUAGE=lang)
        response = post_login(client, accounts["support"], code=code)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not logged_in(client)
    assert failures_of(accounts["support"]) == 0


def test_a_code_used_already_with_a_wrong_password_says_nothing_about_the_code(accounts):
    """Only someone who knows the password learns that the code was right but spent."""
    code = code_for(accounts["support"])
    assert post_login(Client(), accounts["support"], code=code).status_code == 302
    for lang in SPENT:
        response = post_login(
            Client(HTTP_ACCEPT_LANGUAGE=lang), accounts["support"], password="wrong", code=code
        )
        assert response.status_code == 400
        assert SPENT[lang] not in response.content.decode()
        assert GENERIC[lang] in response.content.decode()
    assert failures_of(accounts["support"]) == 2


def test_confirming_with_the_code_just_used_to_log_in_says_to_wait_for_the_next(accounts):
    client = Client()
    code = code_for(accounts["contact"])
    assert post_login(client, accounts["contact"], code=code).status_code == 302
    form = {"password": accounts["contact"]["password"], "code": code}
    response = client.post(reverse("reauth"), form)
    assert response.status_code == 400
    assert SPENT["en"] in response.content.decode()
    assert failures_of(accounts["contact"]) == 0
    wrong = client.post(reverse("reauth"), form | {"password": "wrong"})
    assert SPENT["en"] not in wrong.content.decode()
    assert failures_of(accounts["contact"]) == 1


def test_ten_wrong_passwords_lock_that_account_only(accounts):
    attacker = Client()
    for _ in range(9):
        assert post_login(attacker, accounts["contact"], password="wrong").status_code == 400
    response = post_login(attacker, accounts["contact"], password="wrong")
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    # Now even the right password and code are refused ...
    assert post_login(Client(), accounts["contact"]).status_code == 429
    # ... while another account on the same address logs in as usual.
    assert post_login(Client(), accounts["support"]).status_code == 302


def test_wrong_codes_count_toward_the_lock(accounts):
    client = Client()
    for _ in range(10):
        post_login(client, accounts["contact"], code="000000")
    assert post_login(Client(), accounts["contact"]).status_code == 429


def test_the_site_admin_unlocks_an_account(accounts, client_for, people):
    for _ in range(10):
        post_login(Client(), accounts["contact"], password="wrong")
    admin = client_for("admin")
    url = reverse("admin-account-unlock", args=[people["contact"].pk])
    assert admin.post(url).status_code == 302
    assert post_login(Client(), accounts["contact"]).status_code == 302


def test_failures_are_logged_without_the_password(accounts, caplog):
    with caplog.at_level("WARNING", logger="uphold.security"):
        post_login(Client(), accounts["contact"], password="hunter2-secret")
    assert "login failed" in caplog.text
    assert "contact" in caplog.text
    assert "hunter2-secret" not in caplog.text


def test_an_oversized_field_is_refused_and_changes_nothing(accounts):
    before = database_state()
    response = Client().post(
        reverse("login"), {"username": "x" * 10_000, "password": "y", "code": "123456"}
    )
    assert response.status_code == 400
    assert "at most 40 characters" in response.content.decode()
    assert database_state() == before


def test_a_disabled_account_loses_its_sessions(accounts, people, client_for):
    contact = client_for("contact")
    assert logged_in(contact)
    set_active(people["admin"], people["contact"], False)
    assert not logged_in(contact)
    assert post_login(Client(), accounts["contact"]).status_code == 400


def test_a_password_change_ends_every_other_session(accounts, people, client_for):
    here, elsewhere = client_for("contact"), client_for("contact")
    response = here.post(
        reverse("password"), password_change(accounts["contact"], "a long new passphrase 42")
    )
    assert response.status_code == 302
    assert logged_in(here)
    assert not logged_in(elsewhere)


def lock_out(account: dict) -> None:
    for _ in range(10):
        post_login(Client(), account, password="wrong")


def failures_of(account: dict) -> int:
    attempt = AccessAttempt.objects.filter(username=account["username"]).first()
    return attempt.failures_since_start if attempt else 0


WRONG = {"en": "That password or code is wrong.", "de": "Passwort oder Code ist falsch."}
LOCKED = {"en": "This account is locked for now", "de": "Dieses Konto ist vorerst blockiert"}


def test_a_wrong_current_password_on_the_password_page_counts_toward_the_lock(
    accounts, people, client_for
):
    contact = accounts["contact"]
    clients = {lang: client_for("contact", HTTP_ACCEPT_LANGUAGE=lang) for lang in WRONG}
    before = database_state(ignoring=("axes",))
    for n, lang in enumerate(WRONG, start=1):
        form = password_change(contact, "a long new passphrase 42", current_password="wrong")
        response = clients[lang].post(reverse("password"), form)
        assert response.status_code == 400
        assert WRONG[lang] in response.content.decode()
        assert failures_of(contact) == n
    assert database_state(ignoring=("axes",)) == before
    for _ in range(7):
        clients["en"].post(reverse("password"), form)
    tenth = clients["en"].post(reverse("password"), form)
    assert tenth.status_code == 429
    assert post_login(Client(), contact).status_code == 429
    assert User.objects.get(pk=people["contact"].pk).check_password(contact["password"])


def test_changing_the_password_needs_the_authenticator_code(accounts, people, client_for):
    contact = accounts["contact"]
    wrong_code = f"{(int(code_for(contact)) + 1) % 1_000_000:06d}"
    for lang in WRONG:
        client = client_for("contact", HTTP_ACCEPT_LANGUAGE=lang)
        before = database_state(ignoring=("axes", "otp_totp"))
        form = password_change(contact, "a long new passphrase 42", code=wrong_code)
        response = client.post(reverse("password"), form)
        assert response.status_code == 400
        assert WRONG[lang] in response.content.decode()
        assert failures_of(contact) == 1  # each client_for logs in, which clears the count
        assert client.post(reverse("password"), form | {"code": ""}).status_code == 400
        assert database_state(ignoring=("axes", "otp_totp")) == before
    assert User.objects.get(pk=people["contact"].pk).check_password(contact["password"])


def test_a_locked_account_cannot_change_its_password(accounts, people, client_for):
    contact = accounts["contact"]
    clients = {lang: client_for("contact", HTTP_ACCEPT_LANGUAGE=lang) for lang in LOCKED}
    lock_out(contact)
    for lang in LOCKED:
        form = password_change(contact, "a long new passphrase 42")
        before = database_state()
        response = clients[lang].post(reverse("password"), form)
        assert response.status_code == 429
        assert LOCKED[lang] in response.content.decode()
        assert database_state() == before
    assert User.objects.get(pk=people["contact"].pk).check_password(contact["password"])
    # The same form goes through once the site admin has unlocked the account.
    unlock(people["admin"], people["contact"])
    assert clients["en"].post(reverse("password"), form).status_code == 302


def test_the_confirm_page_refuses_a_locked_account_even_with_the_right_password_and_code(
    accounts, people, client_for
):
    contact = accounts["contact"]
    clients = {lang: client_for("contact", HTTP_ACCEPT_LANGUAGE=lang) for lang in LOCKED}
    lock_out(contact)
    form = {"password": contact["password"], "code": code_for(contact)}
    for lang in LOCKED:
        confirmed_at = clients[lang].session[REAUTH_AT]
        before = database_state()
        response = clients[lang].post(reverse("reauth"), form)
        assert response.status_code == 429
        assert LOCKED[lang] in response.content.decode()
        assert database_state() == before
        assert clients[lang].session[REAUTH_AT] == confirmed_at
    unlock(people["admin"], people["contact"])
    assert clients["en"].post(reverse("reauth"), form).status_code == 302


def test_a_private_key_altered_in_the_database_refuses_the_login_clearly(accounts, people):
    """The right password and code, but the sealed private key was changed: a message, not a
    500, and no session."""
    key = UserKey.objects.get(user=people["contact"])
    altered = bytearray(key.private_by_password)
    altered[-1] ^= 1
    UserKey.objects.filter(pk=key.pk).update(private_by_password=bytes(altered))
    device = TOTPDevice.objects.filter(user=people["contact"])
    messages = {"en": "do not open with them", "de": "öffnen sich damit nicht"}
    for lang, message in messages.items():
        device.update(last_t=-1)
        client = Client(HTTP_ACCEPT_LANGUAGE=lang)
        response = post_login(client, accounts["contact"])
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not logged_in(client)


def test_absurd_argon2_parameters_in_the_database_refuse_the_login_without_deriving(
    accounts, people, monkeypatch
):
    """A database writer must not make one login allocate a terabyte."""
    UserKey.objects.filter(user=people["contact"]).update(kdf_memlimit=2**40)

    def derive(*args, **kwargs):
        raise AssertionError("a key was derived with parameters out of bounds")

    monkeypatch.setattr("uphold.crypto.primitives.argon2id.kdf", derive)
    messages = {"en": "outside the safe range", "de": "außerhalb des sicheren Bereichs"}
    device = TOTPDevice.objects.filter(user=people["contact"])
    for lang, message in messages.items():
        device.update(last_t=-1)
        unspent = device.values("last_t", "last_used_at").get()
        before = database_state()
        client = Client(HTTP_ACCEPT_LANGUAGE=lang)
        started = time.monotonic()
        response = post_login(client, accounts["contact"])
        assert time.monotonic() - started < 10
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not logged_in(client)
        # Only the code is spent; no failure counts toward the lock, no login is recorded.
        device.update(**unspent)
        assert database_state() == before


def test_the_session_ends_after_the_absolute_limit(people, settings):
    from datetime import timedelta

    settings.UPHOLD_SESSION_ABSOLUTE = timedelta(seconds=0)
    client = log_in(Client(), people["contact"])
    assert client.get(reverse("home")).status_code == 302


def test_every_request_renews_the_idle_limit_and_an_idle_session_ends(client_for):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = client_for("contact")
    session = Session.objects.get(session_key=client.session.session_key)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert logged_in(client)
    renewed = Session.objects.get(session_key=client.session.session_key).expire_date
    assert renewed > timezone.now() + timedelta(minutes=29)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert not logged_in(client)


def test_logout_destroys_the_session(client_for):
    client = client_for("contact")
    key = client.session.session_key
    client.post(reverse("logout"))
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=key).exists()
    assert not logged_in(client)


def test_leave_quickly_logs_out_and_goes_to_a_neutral_site(client_for, settings):
    client = client_for("survivor")
    response = client.post(reverse("leave"))
    assert response.status_code == 302
    assert response["Location"] == settings.UPHOLD_LEAVE_URL
    assert not logged_in(client)


@pytest.mark.parametrize("sensitive", ["member-invite", "admin-accounts"])
def test_sensitive_pages_ask_to_confirm_after_a_while(sensitive, people, accounts):
    role = "admin" if sensitive == "admin-accounts" else "support"
    client = log_in(Client(), people[role])
    session = client.session
    session["uphold_reauth_at"] = "2000-01-01T00:00:00+00:00"
    session.save()
    url = reverse(sensitive, kwargs={"code": "kestrel"} if role == "support" else {})
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reauth"))
    # Confirming with password and a fresh code opens the page again.
    device = TOTPDevice.objects.get(user=people[role])
    device.last_t = -1
    device.save()
    confirm = client.post(
        response["Location"],
        {"password": accounts[role]["password"], "code": code_for(accounts[role])},
    )
    assert confirm.status_code == 302 and confirm["Location"] == url
    assert client.get(url).status_code == 200


def test_recovery_words_set_a_new_password_and_keep_the_keys(db):
    from uphold.accounts.services import create_user
    from uphold.crypto.services import unlock

    account = create_user("wren", "the first passphrase")
    before = unlock(account.user, "the first passphrase")
    data = {
        "username": "wren",
        "words": account.recovery_words,
        "code": code_for({"totp_key": account.device.key}),
        "password1": "the second passphrase",
        "password2": "the second passphrase",
    }
    bad = Client().post(reverse("recover"), data | {"words": "wrong " * 24})
    assert bad.status_code == 400 and "those words" in bad.content.decode()
    TOTPDevice.objects.filter(user=account.user).update(last_t=-1)  # as at the next code
    response = Client().post(reverse("recover"), data)
    assert response.status_code == 302
    assert unlock(account.user, "the second passphrase") == before


def test_the_accounts_list_asks_about_locks_without_a_query_per_account(accounts, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from uphold.accounts.services import create_user

    for _ in range(10):
        post_login(Client(), accounts["contact"], password="wrong")
    admin = client_for("admin")
    with CaptureQueriesContext(connection) as few:
        page = admin.get(reverse("admin-accounts")).content.decode()
    assert "Unlock contact" in page
    for n in range(10):
        create_user(f"extra{n}", "a long passphrase here")
    with CaptureQueriesContext(connection) as many:
        admin.get(reverse("admin-accounts"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_recovery_with_a_code_used_already_says_so_only_after_the_right_words(db):
    from uphold.accounts.services import create_user

    account = create_user("wren", "the first passphrase")
    code = code_for({"totp_key": account.device.key})
    assert account.device.verify_token(code)  # spent, as by a login a moment ago
    data = {
        "username": "wren",
        "words": account.recovery_words,
        "code": code,
        "password1": "the second passphrase",
        "password2": "the second passphrase",
    }
    right = Client().post(reverse("recover"), data)
    assert right.status_code == 400 and SPENT["en"] in right.content.decode()
    assert failures_of({"username": "wren"}) == 0
    wrong = Client().post(reverse("recover"), data | {"words": "wrong " * 24})
    assert wrong.status_code == 400 and SPENT["en"] not in wrong.content.decode()
    assert failures_of({"username": "wren"}) == 1
    assert User.objects.get(username="wren").check_password("the first passphrase")


def test_a_language_chosen_on_the_login_page_becomes_the_accounts(accounts, people, settings):
    client = Client()
    client.post(reverse("set_language"), {"language": "de", "next": reverse("login")})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    response = post_login(client, accounts["contact"])
    assert response.status_code == 302
    assert User.objects.get(pk=people["contact"].pk).language == "de"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert 'lang="de"' in client.get(reverse("home")).content.decode()


def test_without_a_choice_the_saved_language_stays(accounts, people, settings):
    User.objects.filter(pk=people["contact"].pk).update(language="de")
    response = post_login(Client(HTTP_ACCEPT_LANGUAGE="en"), accounts["contact"])
    assert response.status_code == 302
    assert User.objects.get(pk=people["contact"].pk).language == "de"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
