"""Authentication events go to the security log (never passwords, never codes)."""

import logging

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

log = logging.getLogger("uphold.security")


def _address(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "-") if request else "-"


@receiver(user_login_failed)
def log_failure(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:40]
    log.warning("login failed username=%r address=%s", username, _address(request))


@receiver(user_logged_in)
def log_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    log.info("login user=%s address=%s", user.pk, _address(request))
