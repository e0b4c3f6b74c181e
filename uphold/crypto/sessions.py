"""The private key during a session: sealed in the session store under a key that lives only
in a second HttpOnly, SameSite=Strict cookie. Neither the store nor the cookie alone opens it.
"""

import base64
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import keyring, primitives

SESSION_FIELD = "uphold_sealed_private"
AD = b"uphold-v1|session-private"


def cookie_name() -> str:
    return "__Host-uphold-key" if settings.PRODUCTION else "uphold-key"


def hold(request: HttpRequest, private_key: bytes) -> None:
    cookie_key = primitives.random_key()
    request.session[SESSION_FIELD] = base64.b64encode(
        primitives.encrypt(cookie_key, private_key, AD)
    ).decode()
    request.uphold_key_cookie = base64.urlsafe_b64encode(cookie_key).decode()


def private_key_of(request: HttpRequest) -> bytes | None:
    sealed = request.session.get(SESSION_FIELD)
    cookie = getattr(request, "uphold_key_cookie", None) or request.COOKIES.get(cookie_name())
    if not sealed or not cookie:
        return None
    try:
        return primitives.decrypt(base64.urlsafe_b64decode(cookie), base64.b64decode(sealed), AD)
    except (primitives.CryptoError, ValueError):
        return None


def middleware(get_response: Callable[[HttpRequest], HttpResponse]):
    """Makes the request's keyring; sets or clears the key cookie on the way out."""

    def handle(request: HttpRequest) -> HttpResponse:
        user = request.user
        private = private_key_of(request) if user.is_authenticated else None
        with keyring.using(keyring.Keyring(user.pk if user.is_authenticated else None, private)):
            response = get_response(request)
        new_cookie = getattr(request, "uphold_key_cookie", None)
        logged_in = request.user.is_authenticated
        if new_cookie and logged_in and SESSION_FIELD in request.session:
            response.set_cookie(
                cookie_name(),
                new_cookie,
                httponly=True,
                samesite="Strict",
                secure=settings.PRODUCTION,
                max_age=None,
            )
        elif not logged_in and cookie_name() in request.COOKIES:
            response.delete_cookie(cookie_name(), samesite="Strict")
        return response

    return handle
