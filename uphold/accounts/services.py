"""Every write to accounts: invitations, enrolment, login, passwords, disabling."""

import base64
import enum
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode
from zoneinfo import available_timezones

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate, password_validation, update_session_auth_hash
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from uphold.crypto import primitives as crypto_primitives
from uphold.crypto import services as crypto
from uphold.crypto import sessions as crypto_sessions
from uphold.lib.middleware import LOGIN_AT
from uphold.processes.permissions import authorize

from .models import Invitation, PasswordReset, User, hash_token

REAUTH_AT = "uphold_reauth_at"

security_log = logging.getLogger("uphold.security")


class InvitationError(Exception):
    """The link cannot be used; the message says why, in the user's language."""


# The rules for a new account, the same for the web's forms and `uphold createuser`.
USERNAME_MAX = 40
check_username = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}\Z",
    gettext_lazy("Use 2 to 40 letters, digits, dots, hyphens or underscores."),
)


def check_password(password: str, owner: User | None) -> None:
    """Raises ValidationError with every rule the password breaks (length, too common, ...)."""
    password_validation.validate_password(password, owner)


def username_taken(username: str) -> bool:
    return User.objects.filter(username__iexact=username).exists()


def check_new_username(username: str) -> None:
    """The name follows the rule and is free; raises ValidationError saying why not."""
    check_username(username)
    if username_taken(username):
        raise ValidationError(_("That username is taken. Choose another."))


def check_new_account(username: str, password: str) -> None:
    """Every rule for a new account's name and password; raises one ValidationError naming
    each broken rule by its field (`username`, `password`)."""
    errors: dict[str, list] = {}
    try:
        check_new_username(username)
    except ValidationError as error:
        errors["username"] = error.messages
    try:
        check_password(password, User(username=username))
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)


def new_totp_key() -> str:
    return random_hex(20)


def authenticator_key(key_hex: str, *, grouped: bool = False) -> str:
    """The key as an authenticator app takes it (base32), in groups of four to type by hand."""
    raw = base64.b32encode(bytes.fromhex(key_hex)).decode()
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4)) if grouped else raw


def totp_uri(key_hex: str, label: str) -> str:
    """What the authenticator app stores: the issuer and a label, never a person's name."""
    secret = authenticator_key(key_hex)
    query = urlencode({"secret": secret, "issuer": "Uphold", "digits": 6, "period": 30})
    return f"otpauth://totp/{quote(f'Uphold:{label}')}?{query}"


def totp_code(key_hex: str) -> str:
    """The code an authenticator app shows now for this key (demo page and tests)."""
    return f"{TOTP(bytes.fromhex(key_hex)).token():06d}"


def acting_as(user: User) -> User:
    """A user authenticated outside a web request acts with the rights of a 2FA login.

    For the CLI after the member's password, and for the demo and the generator acting as
    the accounts they have just created.
    """
    user.is_verified = lambda: True
    return user


def make_invitation(
    actor: User | None, *, site_admin: bool = False, process=None, role: str = ""
) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        token_hash=hash_token(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.UPHOLD_INVITE_DAYS),
        site_admin=site_admin,
        process=process,
        role=role,
    )
    return invitation, token


def invite_account(actor: User, *, site_admin: bool = False) -> tuple[Invitation, str]:
    """A site admin invites someone to have an account (no process yet)."""
    authorize(actor, "admin.accounts")
    return make_invitation(actor, site_admin=site_admin)


def find_invitation(token: str, *, lock: bool = False) -> Invitation:
    query = Invitation.objects.select_related("process")
    if lock:
        query = query.select_for_update(of=("self",))
    invitation = query.filter(token_hash=hash_token(token)).first()
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid. Ask for a new one."))
    if invitation.used_at:
        raise InvitationError(_("This invitation link has already been used."))
    if invitation.expired:
        raise InvitationError(_("This invitation link has expired. Ask for a new one."))
    return invitation


def _mark_used(invitation: Invitation, user: User) -> None:
    invitation.used_at = timezone.now()
    invitation.used_by = user
    invitation.save(update_fields=["used_at", "used_by"])


@dataclass
class NewAccount:
    user: User
    device: TOTPDevice
    recovery_words: str  # shown once, never stored


def create_user(
    username: str,
    password: str,
    *,
    site_admin: bool = False,
    language: str = "en",
    totp_key: str | None = None,
) -> NewAccount:
    """An account with a confirmed authenticator and its key pair.

    Used by enrolment, the CLI and the demo.
    """
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, password=password, is_site_admin=site_admin, language=language
        )
        device = TOTPDevice.objects.create(
            user=user, name="authenticator", key=totp_key or new_totp_key(), confirmed=True
        )
        words = crypto.create_user_key(user, password)
    return NewAccount(user, device, words)


def accept_with_new_account(
    token: str, *, username: str, password: str, language: str, totp_key: str, code: str
) -> NewAccount:
    """Creates the account, its authenticator and any membership, all or nothing."""
    from uphold.processes.services import add_member

    with transaction.atomic():
        invitation = find_invitation(token, lock=True)
        if username_taken(username):  # checked again here, against a name taken meanwhile
            raise InvitationError(_("That username is taken. Choose another."))
        account = create_user(
            username,
            password,
            site_admin=invitation.site_admin,
            language=language,
            totp_key=totp_key,
        )
        user = account.user
        if not account.device.verify_token(code):  # also spends the code: it cannot log in again
            raise InvitationError(_("That code does not match. Check your authenticator app."))
        if invitation.process:
            add_member(invitation.process, user, invitation.role)
        _mark_used(invitation, user)
    return account


def accept_as_member(user: User, token: str):
    """A logged-in user joins the invitation's process."""
    from uphold.processes.services import add_member

    authorize(user, "account.use")
    with transaction.atomic():
        invitation = find_invitation(token, lock=True)
        if invitation.process is None or user.is_site_admin:
            raise InvitationError(_("This invitation is for a new account. Log out first."))
        if invitation.process.memberships.filter(user=user).exists():
            raise InvitationError(_("You are already a member of this process."))
        membership = add_member(invitation.process, user, invitation.role)
        _mark_used(invitation, user)
    return membership


class Code(enum.Enum):
    """What an authenticator code is worth for one device."""

    RIGHT = "right"
    SPENT = "spent"  # one the device would take, but it took it already: wait for the next
    WRONG = "wrong"


def check_code(device: TOTPDevice | None, code: str) -> Code:
    """Verifies (and so spends) the code. A code already spent is told apart, since it is the
    person's right code used twice (log out and in again, confirm right after logging in), not
    a guess; callers say so only once the password is known to be right."""
    if device is None:
        return Code.WRONG
    if _spent(device, code):
        return Code.SPENT
    return Code.RIGHT if device.verify_token(code) else Code.WRONG


def _spent(device: TOTPDevice, code: str) -> bool:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time()
    steps = []
    for offset in range(-device.tolerance, device.tolerance + 1):
        totp.drift = device.drift + offset
        if f"{totp.token():0{device.digits}d}" == code:
            steps.append(totp.t())
    return bool(steps) and max(steps) <= device.last_t


@dataclass
class LoginResult:
    user: User | None
    locked: bool = False
    # The password was right and the code too, but it was used already: not a failure.
    code_spent: bool = False
    # Password and code were right, but the stored key parameters are out of bounds.
    keys_refused: bool = False
    # Password and code were right, but the stored private key does not open with them.
    keys_altered: bool = False


def log_in(request: HttpRequest, username: str, password: str, code: str) -> LoginResult:
    """Password and authenticator code together; a failure of either counts toward the lock.

    A code used already is no failure, and is told as such only after the right password.
    """
    from django.contrib.auth import login

    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        return LoginResult(None, locked=True)
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first() if user else None
    checked = check_code(device, code) if user else Code.WRONG
    if checked is Code.SPENT:
        return LoginResult(None, code_spent=True)
    if checked is not Code.RIGHT:
        if user is not None:
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=request
            )
            locked = AxesProxyHandler.is_locked(request, {"username": username})
            return LoginResult(None, locked=locked)
        return LoginResult(None)
    try:
        private_key = crypto.unlock(user, password)
    except crypto_primitives.UnsafeKdfParams as error:
        # Not the person's mistake, so not a failure toward the lock; they stay logged out.
        security_log.warning("keys refused user=%s: %s", user.pk, error)
        return LoginResult(None, keys_refused=True)
    except crypto_primitives.CryptoError:
        # The password is right (authenticate said so), yet the sealed key does not open.
        security_log.warning("keys do not open user=%s: altered in the database", user.pk)
        return LoginResult(None, keys_altered=True)
    _keep_chosen_language(request, user)
    login(request, user)  # a new session id
    otp_login(request, device)
    crypto_sessions.hold(request, private_key)
    crypto.pin_own_keys(user.pk, private_key)  # the keys given since the last login
    _audit_login(user)
    now = timezone.now().isoformat()
    request.session[LOGIN_AT] = now
    request.session[REAUTH_AT] = now
    return LoginResult(user)


def _keep_chosen_language(request: HttpRequest, user: User) -> None:
    """A language chosen before logging in (it is in the language cookie) becomes the account's:
    it is what the person reads now, and notices follow it. Without a choice, the saved one
    stays."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in dict(settings.LANGUAGES) and chosen != user.language:
        user.language = chosen
        user.save(update_fields=["language"])


def _audit_login(user: User) -> None:
    from uphold.audit.models import Kind
    from uphold.audit.services import record

    for membership in user.memberships.select_related("process"):
        record(user, membership.process, Kind.LOGIN)


def recover_with_words(
    request: HttpRequest, username: str, words: str, code: str, new_password: str
) -> LoginResult:
    """A forgotten password: the recovery words open the same keys, so nothing is lost.

    The authenticator code is still needed, and failures count toward the account's lock.
    """
    if AxesProxyHandler.is_locked(request, {"username": username}):
        return LoginResult(None, locked=True)
    user = User.objects.filter(username=username, is_active=True).first()
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first() if user else None
    private = None
    checked = check_code(device, code) if user else Code.WRONG
    if checked is not Code.WRONG:
        try:
            private = crypto.unlock_with_recovery(user, words)
        except crypto_primitives.CryptoError:
            private = None
    if private is not None and checked is Code.SPENT:
        return LoginResult(None, code_spent=True)
    if private is None:
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
        return LoginResult(None, locked=AxesProxyHandler.is_locked(request, {"username": username}))
    with transaction.atomic():
        user.set_password(new_password)
        user.session_generation += 1
        user.save(update_fields=["password", "session_generation"])
        crypto.reseal_under_password(user, private, new_password)
    return LoginResult(user)


class Identity(enum.Enum):
    """The answer to a logged-in user's password and code, asked again."""

    CONFIRMED = "confirmed"
    WRONG = "wrong"
    LOCKED = "locked"
    CODE_SPENT = "code spent"  # right password, a code used already: no failure


def _confirm_identity(request: HttpRequest, password: str, code: str) -> Identity:
    """As at login: a locked account is refused even with the right password and code, and a
    wrong password or code counts toward the lock."""
    user = request.user
    credentials = {"username": user.username}
    if AxesProxyHandler.is_locked(request, credentials):
        return Identity.LOCKED
    if user.check_password(password):
        checked = check_code(user.otp_device, code)
        if checked is Code.RIGHT:
            return Identity.CONFIRMED
        if checked is Code.SPENT:
            return Identity.CODE_SPENT
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return Identity.LOCKED if AxesProxyHandler.is_locked(request, credentials) else Identity.WRONG


def reauthenticate(request: HttpRequest, password: str, code: str) -> Identity:
    identity = _confirm_identity(request, password, code)
    if identity is Identity.CONFIRMED:
        request.session[REAUTH_AT] = timezone.now().isoformat()
    return identity


def recently_authenticated(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_AT)
    if not at:
        return False
    age = timezone.now() - timezone.datetime.fromisoformat(at)
    return age < timedelta(minutes=settings.UPHOLD_REAUTH_MINUTES)


def change_password(
    request: HttpRequest, current_password: str, code: str, new_password: str
) -> Identity:
    """With the current password and a code, as at login; changes nothing unless both are right.

    Ends every other session of this user; the current one stays logged in.
    """
    identity = _confirm_identity(request, current_password, code)
    if identity is not Identity.CONFIRMED:
        return identity
    user = request.user
    private_key = crypto_sessions.private_key_of(request)
    if private_key is None:
        raise ValueError(_("Log in again before changing your password."))
    with transaction.atomic():
        user.set_password(new_password)
        user.session_generation += 1
        user.save(update_fields=["password", "session_generation"])
        crypto.reseal_under_password(user, private_key, new_password)
    update_session_auth_hash(request, user)
    return identity


def set_active(actor: User, user: User, active: bool) -> None:
    """Disabling ends every session of that user at their next request."""
    authorize(actor, "admin.accounts")
    if user == actor:
        raise ValueError(_("You cannot disable your own account."))
    user.is_active = active
    user.session_generation += 1
    user.save(update_fields=["is_active", "session_generation"])


def issue_reset(actor: User, user: User) -> str:
    """The site admin's one-time link for someone who lost their password or authenticator."""
    authorize(actor, "admin.accounts")
    if user == actor:
        raise ValueError(_("Reset your own account from another admin account."))
    token = secrets.token_urlsafe(32)
    PasswordReset.objects.create(
        token_hash=hash_token(token),
        user=user,
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.UPHOLD_INVITE_DAYS),
    )
    return token


def find_reset(token: str, *, lock: bool = False) -> PasswordReset:
    query = PasswordReset.objects.select_related("user")
    if lock:
        query = query.select_for_update(of=("self",))
    reset = query.filter(token_hash=hash_token(token)).first()
    if reset is None:
        raise InvitationError(_("This link is not valid. Ask for a new one."))
    if reset.used_at:
        raise InvitationError(_("This link has already been used."))
    if timezone.now() >= reset.expires_at:
        raise InvitationError(_("This link has expired. Ask for a new one."))
    return reset


def complete_reset(token: str, *, password: str, totp_key: str, code: str) -> NewAccount:
    """New password, new authenticator, new keys; every session ends; access must be re-granted."""
    from uphold.audit.models import Kind
    from uphold.audit.services import record

    with transaction.atomic():
        reset = find_reset(token, lock=True)
        user = reset.user
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", key=totp_key)
        if not device.verify_token(code):
            raise InvitationError(_("That code does not match. Check your authenticator app."))
        user.set_password(password)
        user.session_generation += 1
        user.save(update_fields=["password", "session_generation"])
        words = crypto.replace_user_key(user, password)
        reset.used_at = timezone.now()
        reset.save(update_fields=["used_at"])
        for membership in user.memberships.select_related("process"):
            record(reset.created_by, membership.process, Kind.REVOKE, membership)
    return NewAccount(user, device, words)


def unlock(actor: User, user: User) -> None:
    authorize(actor, "admin.accounts")
    axes_reset(username=user.username)


def is_locked(user: User) -> bool:
    # The lock is by username alone, so any request object will do for axes' signature.
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    return AxesProxyHandler.is_locked(request, {"username": user.username})


def locked_usernames() -> set[str]:
    """For the accounts list: axes is asked only about names with failed attempts on record,
    so the page does not make a query per account."""
    from axes.models import AccessAttempt

    tried = User.objects.filter(username__in=AccessAttempt.objects.values("username")).order_by(
        "username"
    )
    return {user.username for user in tried if is_locked(user)}


def change_settings(user: User, *, email: str, time_zone: str) -> None:
    """The user's own notice address and time zone; only they change them."""
    if time_zone and time_zone not in available_timezones():
        raise ValidationError(_("Choose a time zone from the list."))
    user.email, user.time_zone = email.strip(), time_zone
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["email", "time_zone"])
