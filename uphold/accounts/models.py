"""Accounts: people who log in, and the one-time invitations that are the only way in."""

import hashlib

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    def create_user(self, username: str, password: str | None = None, **extra) -> "User":
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A login. The username is a pseudonym the person chooses; no real name is needed."""

    username = models.CharField(_("username"), max_length=40, unique=True)
    is_active = models.BooleanField(default=True)
    is_site_admin = models.BooleanField(default=False)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    # In clear: the worker, which holds no keys, sends notices here. Optional.
    email = models.EmailField(_("email address for notices"), blank=True)
    # Empty: the server's time zone (UPHOLD_TIME_ZONE).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # Raised whenever every session of this user must end (password change, disabling).
    session_generation = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "username"
    objects = UserManager()

    def __str__(self) -> str:
        return self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        return salted_hmac(
            "uphold.accounts.User.session",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """A one-time link; only the hash of its secret is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site_admin = models.BooleanField(default=False)
    process = models.ForeignKey(
        "processes.Process", null=True, blank=True, on_delete=models.CASCADE
    )
    role = models.CharField(max_length=16, blank=True)
    # Set when a member withdraws the unused link; it then answers as an expired one.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(site_admin=True) & models.Q(process__isnull=False)),
                name="invitation_admin_or_member",
            ),
            models.CheckConstraint(
                condition=models.Q(process__isnull=True, role="")
                | models.Q(process__isnull=False) & ~models.Q(role=""),
                name="invitation_role_with_process",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | models.Q(used_at__isnull=True),
                name="invitation_used_or_withdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk}"

    @property
    def expired(self) -> bool:
        """A withdrawn link is expired: whoever holds it learns nothing more."""
        return self.withdrawn_at is not None or timezone.now() >= self.expires_at


class PasswordReset(models.Model):
    """A one-time link from the site admin. Using it gives a new password, authenticator and key
    pair; the old keys are gone, so members must give access to the processes again."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"password reset {self.pk}"
