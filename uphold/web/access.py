"""Decorators that put every view behind the one permission function.

Each view in the URL configuration wears exactly one of these; a test checks that none is bare.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from uphold.accounts.models import Invitation
from uphold.accounts.services import recently_authenticated
from uphold.crypto.keyring import NoKey
from uphold.processes.models import Membership
from uphold.processes.permissions import NotAuthenticated, authorize

View = Callable[..., HttpResponse]


def _to_login(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.path})}")


def public_view(view: View) -> View:
    """Open to anyone, logged in or not (login, invitations, leave quickly)."""
    view.uphold_access = "public"
    return view


def account_view(action: str = "account.use", *, reauth: bool = False) -> Callable[[View], View]:
    """A logged-in, verified user; `admin.*` actions also need the site admin role."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                authorize(request.user, action)
            except NotAuthenticated:
                return _to_login(request)
            if reauth and not recently_authenticated(request):
                return _to_reauth(request)
            return view(request, *args, **kwargs)

        wrapped.uphold_access = action
        return wrapped

    return decorate


def process_view(action: str, *, reauth: bool = False) -> Callable[[View], View]:
    """A member of the process named by `code` in the URL, whose role allows `action`.

    The view receives the acting membership instead of the code.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, code: str, *args, **kwargs) -> HttpResponse:
            try:
                membership = authorize(request.user, action, code)
            except NotAuthenticated:
                return _to_login(request)
            except Http404:
                if access_ended(request.user, code):
                    return _ended(request, code)
                raise
            if reauth and not recently_authenticated(request):
                return _to_reauth(request)
            try:
                return view(request, membership, *args, **kwargs)
            except NoKey:
                # A member not yet given the keys, or a session whose key cookie is gone.
                return render(request, "locked.html", {"process": membership.process}, status=403)

        wrapped.uphold_access = action
        return wrapped

    return decorate


def access_ended(user, code: str) -> bool:
    """The user joined this process by an invitation and is no longer a member: removed."""
    return Invitation.objects.filter(used_by=user, process__code=code).exists()


def _ended(request: HttpRequest, code: str) -> HttpResponse:
    """A removed member's saved link: told plainly, and logged out unless they are still a
    member of another process."""
    logged_out = not Membership.objects.filter(user=request.user).exists()
    if logged_out:
        logout(request)
    return render(request, "ended.html", {"code": code, "logged_out": logged_out}, status=403)


def _to_reauth(request: HttpRequest) -> HttpResponse:
    """Routes that need re-authentication are pages (GET shows the form), so `next` is safe."""
    return redirect(f"{reverse('reauth')}?{urlencode({'next': request.path})}")
