"""Middleware that every response passes: no caching of pages, session time limits."""

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

LOGIN_AT = "uphold_login_at"

Handler = Callable[[HttpRequest], HttpResponse]


def no_store(get_response: Handler) -> Handler:
    """Pages can hold what must never sit in a shared computer's browser cache."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response["Cache-Control"] = "no-store"
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response

    return middleware


def session_limits(get_response: Handler) -> Handler:
    """Ends a session that has lasted longer than the absolute limit since login.

    The idle limit needs no code: every request renews the session cookie's age.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(LOGIN_AT)
            too_old = (
                started is None
                or timezone.now() - datetime.fromisoformat(started)
                > settings.UPHOLD_SESSION_ABSOLUTE
            )
            if too_old:
                logout(request)
                return redirect(settings.LOGIN_URL)
        return get_response(request)

    return middleware


def member_time_zone(get_response: Handler) -> Handler:
    """Dates and times show in the member's own time zone: the groups are in several cities."""

    def middleware(request: HttpRequest) -> HttpResponse:
        zone = getattr(request.user, "time_zone", "") if request.user.is_authenticated else ""
        try:
            timezone.activate(ZoneInfo(zone)) if zone else timezone.deactivate()
        except (ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return get_response(request)

    return middleware
