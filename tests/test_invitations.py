"""Invitations are the only way in: one-time, expiring, all-or-nothing."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from uphold.accounts.models import Invitation, User
from uphold.accounts.services import invite_account, totp_code
from uphold.processes.models import Membership
from uphold.processes.services import invite_member

from .conftest import MARK, database_state, with_token


def enrolment_of(page: str) -> tuple[str, str]:
    """The signed enrolment field and the key as an authenticator app would read it."""
    signed = re.search(r'name="enrolment" value="([^"]+)"', page).group(1)
    secret = re.search(r'class="secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    import base64

    return signed, base64.b32decode(secret).hex()


def join(client: Client, token: str, **overrides) -> tuple:
    page = client.get(reverse("invite", args=[token]))
    signed, key = enrolment_of(page.content.decode())
    data = {
        "username": "newcomer",
        "password1": "a long passphrase here",
        "password2": "a long passphrase here",
        "language": "de",
        "code": totp_code(key),
        "enrolment": signed,
    } | overrides
    return client.post(reverse("invite", args=[token]), data), key


def test_a_member_invitation_makes_an_account_with_its_role(people):
    _invitation, token = invite_member(people["contact"], "kestrel", "community")
    response, _key = join(Client(), token)
    assert response.status_code == 200
    assert len(re.findall(r"<li><code>[a-z]+</code></li>", response.content.decode())) == 24
    user = User.objects.get(username="newcomer")
    assert user.language == "de"
    assert Membership.objects.get(user=user).role == "community"
    # The same link cannot be used again.
    again = Client().get(reverse("invite", args=[token]))
    assert again.status_code == 404
    assert "already been used" in again.content.decode()


def test_the_enrolment_code_cannot_then_log_in(people):
    _invitation, token = invite_member(people["support"], "kestrel", "contact")
    response, key = join(Client(), token)
    assert response.status_code == 200
    code = totp_code(key)
    login = Client().post(
        reverse("login"),
        {"username": "newcomer", "password": "a long passphrase here", "code": code},
    )
    assert login.status_code == 400


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "000000"}, "does not match"),
        ({"password2": "something else entirely"}, "differ"),
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"username": "x" * 5000}, "at most 40"),
        ({"username": "<script>"}, "letters, digits"),
        ({"username": "support"}, "taken"),
        ({"enrolment": "forged"}, "too old"),
    ],
)
def test_bad_input_explains_and_changes_nothing(people, overrides, message):
    invitation, token = invite_member(people["support"], "kestrel", "contact")
    before = database_state()
    response, _key = join(Client(), token, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before
    assert not Invitation.objects.get(pk=invitation.pk).used_at


def test_a_wrong_token_says_so(db):
    response = Client().get(reverse("invite", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_an_expired_link_says_so_and_changes_nothing(people):
    invitation, token = invite_member(people["support"], "kestrel", "contact")
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    before = database_state()
    response = Client().get(reverse("invite", args=[token]))
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    post = Client().post(reverse("invite", args=[token]), {"username": "late"})
    assert post.status_code == 404
    assert database_state() == before


def test_error_messages_come_in_german(db):
    response = Client(headers={"accept-language": "de"}).get(reverse("invite", args=["nope"]))
    assert "Dieser Einladungslink ist nicht gültig" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "invited_as"),
    [
        ("en", "You are invited to the process kestrel as: community group."),
        ("de", "Du bist zum Prozess kestrel eingeladen als: Gemeinschaftsgruppe."),
    ],
)
def test_the_invitation_page_names_the_role_the_person_joins_as(people, language, invited_as):
    _invitation, token = invite_member(people["contact"], "kestrel", "community")
    before = database_state()
    page = Client(headers={"accept-language": language}).get(reverse("invite", args=[token]))
    assert page.status_code == 200
    assert invited_as in page.content.decode()
    assert database_state() == before


@pytest.mark.parametrize(
    ("language", "invited_as"),
    [
        ("en", "You are invited as: contact group."),
        ("de", "Du bist eingeladen als: Kontaktgruppe."),
    ],
)
def test_a_member_joining_by_link_sees_the_role_they_join_as(
    people, client_for, language, invited_as
):
    _invitation, token = invite_member(people["outsider"], "heron", "contact")
    client = client_for("contact", headers={"accept-language": language})
    page = client.get(reverse("invite", args=[token]))
    assert page.status_code == 200
    assert invited_as in page.content.decode()


def test_an_account_invitation_names_the_site_admin_role(people):
    _invitation, token = invite_account(people["admin"], site_admin=True)
    page = Client().get(reverse("invite", args=[token])).content.decode()
    assert "You are invited to have an account as: site admin." in page


def test_the_invitation_page_shows_nothing_encrypted_even_to_a_member_with_the_keys(
    people, client_for
):
    """It is seen without keys: never the process's own (encrypted) words for the role."""
    _invitation, token = invite_member(people["support"], "kestrel", "respondent")
    for client in (Client(), client_for("support")):
        page = client.get(reverse("invite", args=[token])).content.decode()
        assert "person who did harm" in page
        assert MARK not in page


def test_only_the_token_hash_is_stored(people):
    invitation, token = invite_member(people["support"], "kestrel", "contact")
    assert token not in repr(Invitation.objects.filter(pk=invitation.pk).values().get())


def test_a_logged_in_member_joins_another_process_by_link(people, client_for):
    _invitation, token = invite_member(people["outsider"], "heron", "contact")
    client = client_for("contact")
    assert client.post(reverse("invite", args=[token])).status_code == 302
    assert Membership.objects.filter(user=people["contact"], process__code="heron").exists()


def test_only_a_site_admin_invites_accounts(people):
    with pytest.raises(PermissionDenied):
        invite_account(people["support"])
    _invitation, token = invite_account(people["admin"])
    response, _key = join(Client(), token)
    assert response.status_code == 200
    assert not Membership.objects.filter(user__username="newcomer").exists()


def test_the_admin_page_shows_a_new_link_once(client_for):
    client = client_for("admin")
    page = client.post(reverse("admin-accounts"), with_token()).content.decode()
    assert "/invite/" in page
    assert "/invite/" not in client.get(reverse("admin-accounts")).content.decode()


def test_an_admin_reset_gives_new_keys_and_access_must_be_granted_again(
    people, accounts, client_for
):
    from uphold.accounts.services import issue_reset
    from uphold.crypto.keyring import Keyring, using
    from uphold.crypto.models import SealedScopeKey
    from uphold.crypto.services import fingerprint_of, unlock
    from uphold.processes.services import grant_access

    from .crypto_tools import open_everything

    token = issue_reset(people["admin"], people["contact"])
    page = Client().get(reverse("reset", args=[token]))
    assert "see nothing of them until" in page.content.decode()
    signed, key = enrolment_of(page.content.decode())
    new = "a brand new passphrase"
    response = Client().post(
        reverse("reset", args=[token]),
        {"password1": new, "password2": new, "code": totp_code(key), "enrolment": signed},
    )
    assert response.status_code == 200 and '<ol class="words">' in response.content.decode()
    contact = User.objects.get(pk=people["contact"].pk)
    assert not SealedScopeKey.objects.filter(user=contact).exists()
    assert open_everything(Keyring(contact.pk, unlock(contact, new))) == {}
    member = Membership.objects.get(user=contact, process__code="kestrel")
    support_client = client_for("support")
    assert (
        "waiting for keys"
        in support_client.get(reverse("members", args=["kestrel"])).content.decode()
    )
    from .test_crypto import keyring_of

    with using(keyring_of(people["support"], accounts["support"]["password"])):
        grant_access(people["support"], "kestrel", member.pk, fingerprint_of(contact))
    assert open_everything(Keyring(contact.pk, unlock(contact, new)))
    assert Client().get(reverse("reset", args=[token])).status_code == 404


# Withdrawing a link before it is used


def _without_tokens(page: str, token: str) -> str:
    """A page without what differs on every response (the CSRF token, in forms and for htmx)
    and without its own address (the language form sends it back)."""
    return re.sub(r"[A-Za-z0-9]{64}", "", page.replace(token, ""))


def test_a_withdrawn_link_answers_exactly_like_an_expired_one(people):
    from uphold.processes.services import withdraw_invitation

    expired, expired_token = invite_member(people["support"], "kestrel", "contact")
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    withdrawn, withdrawn_token = invite_member(people["support"], "kestrel", "contact")
    withdraw_invitation(people["support"], "kestrel", withdrawn.pk)
    for language in ("en", "de"):
        client = Client(headers={"accept-language": language})
        tokens = (expired_token, withdrawn_token)
        answers = [client.get(reverse("invite", args=[t])) for t in tokens]
        assert [a.status_code for a in answers] == [404, 404]
        pages = {
            _without_tokens(a.content.decode(), t) for a, t in zip(answers, tokens, strict=True)
        }
        assert len(pages) == 1
    assert "abgelaufen" in pages.pop()


def test_a_withdrawn_link_cannot_be_accepted(people, client_for):
    from uphold.accounts.services import InvitationError, accept_as_member
    from uphold.processes.services import withdraw_invitation

    withdrawn, token = invite_member(people["outsider"], "heron", "contact")
    page = Client().get(reverse("invite", args=[token])).content.decode()
    signed, key = enrolment_of(page)
    withdraw_invitation(people["outsider"], "heron", withdrawn.pk)
    member = client_for("contact")
    before = database_state()
    data = {
        "username": "newcomer",
        "password1": "a long passphrase here",
        "password2": "a long passphrase here",
        "language": "en",
        "code": totp_code(key),
        "enrolment": signed,
    }
    assert Client().post(reverse("invite", args=[token]), data).status_code == 404
    assert member.post(reverse("invite", args=[token])).status_code == 404
    with pytest.raises(InvitationError):
        accept_as_member(people["contact"], token)
    assert database_state() == before
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize(
    ("withdrawer", "role", "allowed"),
    [
        ("support", "survivor", True),
        ("support", "contact", True),
        ("contact", "contact", True),
        ("contact", "respondent", True),
        ("contact", "support", False),
        ("contact", "survivor", False),
        ("survivor", "community", False),
        ("community", "community", False),
        ("respondent", "community", False),
    ],
)
def test_who_may_withdraw_a_link(people, withdrawer, role, allowed):
    from uphold.audit.models import AuditEvent
    from uphold.processes.services import withdraw_invitation

    invitation, _token = invite_member(people["support"], "kestrel", role)
    if allowed:
        withdraw_invitation(people[withdrawer], "kestrel", invitation.pk)
        assert Invitation.objects.get(pk=invitation.pk).withdrawn_at is not None
        event = AuditEvent.objects.filter(process__code="kestrel").order_by("-seq").first()
        assert (event.kind, event.object_type, event.object_id) == (
            "revoke",
            "accounts.invitation",
            str(invitation.pk),
        )
    else:
        before = database_state()
        with pytest.raises(PermissionDenied):
            withdraw_invitation(people[withdrawer], "kestrel", invitation.pk)
        assert database_state() == before


def test_a_link_of_another_process_is_not_found(people):
    from django.http import Http404

    from uphold.processes.services import withdraw_invitation

    invitation, _token = invite_member(people["outsider"], "heron", "contact")
    with pytest.raises(Http404):
        withdraw_invitation(people["support"], "kestrel", invitation.pk)
    assert Invitation.objects.get(pk=invitation.pk).withdrawn_at is None


@pytest.mark.parametrize("state", ["used", "expired", "withdrawn"])
def test_only_an_open_link_can_be_withdrawn(people, state):
    from django.core.exceptions import ValidationError

    from uphold.processes.services import withdraw_invitation

    invitation, token = invite_member(people["support"], "kestrel", "contact")
    if state == "used":
        join(Client(), token)
    elif state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    else:
        withdraw_invitation(people["support"], "kestrel", invitation.pk)
    before = database_state()
    with pytest.raises(ValidationError):
        withdraw_invitation(people["support"], "kestrel", invitation.pk)
    assert database_state() == before


def test_the_members_page_lists_open_links_and_withdraws_one(people, client_for):
    for_contact, _t = invite_member(people["support"], "kestrel", "contact")
    for_support, _t = invite_member(people["support"], "kestrel", "support")
    used, token = invite_member(people["support"], "kestrel", "community")
    join(Client(), token)
    client = client_for("contact")
    members = reverse("members", args=["kestrel"])
    page = client.get(members).content.decode()
    withdraw = "invitation-withdraw"

    def url(invitation) -> str:
        return reverse(withdraw, args=["kestrel", invitation.pk])

    assert "Open invitation links" in page
    # The contact group may invite, so withdraw, a contact member, never a support member.
    assert url(for_contact) in page and url(for_support) not in page and url(used) not in page
    assert 'name="csrfmiddlewaretoken"' in page
    response = client.post(url(for_contact))
    assert response.status_code == 302 and response["Location"] == members
    after = client.get(members).content.decode()
    assert "The link is withdrawn." in after
    assert url(for_contact) not in after
    assert Invitation.objects.get(pk=for_contact.pk).withdrawn_at is not None


def test_withdrawing_a_link_of_a_role_one_may_not_invite_explains(people, client_for):
    invitation, _token = invite_member(people["support"], "kestrel", "support")
    client = client_for("contact", headers={"accept-language": "de"})
    before = database_state()
    response = client.post(reverse("invitation-withdraw", args=["kestrel", invitation.pk]))
    assert response.status_code == 302
    assert database_state() == before
    page = client.get(response["Location"]).content.decode()
    assert "Deine Rolle kann keinen Link für diese Rolle zurückziehen." in page
