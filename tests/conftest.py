"""Shared fixtures: a process `kestrel` with one member per role, built through the services,
an outsider who belongs to another process `heron`, and a site admin."""

import hashlib
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

ROLES = ["anonymous", "admin", *Role.values, "outsider"]
# Every sensitive field the fixtures fill starts with this, then names the field it is in.
MARK = "MARKER-7f3a-"


@pytest.fixture
def accounts(db) -> dict[str, dict]:
    """username, password and TOTP key per role; every one of them really exists."""
    made = {"admin": make_account("admin", site_admin=True)}
    order = [Role.SUPPORT, *(r for r in Role.values if r != Role.SUPPORT)]
    for account in build_process(
        "kestrel", [(r, r) for r in order], title=MARK + "processes.process.title"
    ):
        made[account["role"]] = account
    for account in build_process("heron", [("outsider", Role.SUPPORT)]):
        made["outsider"] = account
    _attach_marked_document(made["support"])
    return made


def _attach_marked_document(support: dict) -> None:
    from uphold.attachments.services import Writer
    from uphold.crypto.keyring import Keyring, using
    from uphold.processes.models import Membership

    user = User.objects.get(username=support["username"])
    membership = Membership.objects.get(user=user, process__code="kestrel")
    with using(Keyring(user.pk, unlock(user, support["password"]))):
        writer = Writer(
            acting_as(user), membership.process, "record", MARK + "attachments.attachment.name"
        )
        writer.write((MARK + "attachments.attachmentchunk.data").encode())
        writer.finish()


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


def database_state() -> str:
    """A digest of every row of every table except sessions: equal digests, nothing changed."""
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model is Session:
            continue
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr((model._meta.label, row)).encode())
    return digest.hexdigest()


def pytest_terminal_summary(terminalreporter):
    from .test_authorization import matrix_size

    routes, roles, cases = matrix_size()
    terminalreporter.write_line(
        f"authorization matrix: {routes} routes x {roles} roles = {cases} checked answers"
    )
