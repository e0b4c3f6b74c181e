"""One-time tokens on the forms that create something, so that a form sent twice saves once.

A retry after a lost answer, a double click or a resubmit sends the same form again. Each
creating form carries `{% once_token %}` (web/templatetags/once.py): a random token, fresh for
each page. Its view wears `@once.guarded` under its access decorator, and names what it made
with `once.redirect(request, ...)` (or `once.saved(request, path)` when it answers with a page).

On POST the decorator first stores (user, token) and then runs the view, both in one
transaction. A second post of the same token meets the unique constraint: either the row is
there already, or (two posts at once) the database holds the second insert until the first
commits and then refuses it. Either way the second post creates nothing and is sent to what
the first one made. A view that saved nothing (the form had errors) leaves no row, and its
page keeps the posted token, so correcting the form and sending it again saves once.
"""

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect as django_redirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .models import Submission

FIELD = "once"
# What `fresh` makes: 24 random bytes, URL-safe base64 without padding.
WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{32}")
KEPT_FOR = timedelta(days=1)

View = Callable[..., HttpResponse]


def fresh() -> str:
    return secrets.token_urlsafe(24)


def token_for_page(request: HttpRequest) -> str:
    """The token a page puts in its creating form: the posted one while it is unsaved."""
    return getattr(request, "once_token", None) or fresh()


def saved(request: HttpRequest, location: str) -> None:
    """The view made something, found at the path `location`; a repeat of this form goes there.

    A page rendered after this gets a fresh token, so its form makes a new thing.
    """
    request.once_location = location
    request.once_token = None


def redirect(request: HttpRequest, to: str, *args, **kwargs) -> HttpResponseRedirect:
    """Django's `redirect`, to what the view just made, remembered for a repeat of the form."""
    response = django_redirect(to, *args, **kwargs)
    saved(request, response.url)
    return response


def out_of_date(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"status": 400, "out_of_date": True}, status=400)


def _again(request: HttpRequest, token: str) -> HttpResponse:
    first = Submission.objects.filter(user=request.user, token=token).first()
    # Only a path on this site: a row changed to "//elsewhere" or "/\\elsewhere" (which
    # browsers read as another host) leads nowhere.
    if (
        first is None
        or not url_has_allowed_host_and_scheme(
            first.location, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        or not first.location.startswith("/")
    ):
        return out_of_date(request)
    messages.info(request, _("This was saved already; here it is."))
    return HttpResponseRedirect(first.location)


def guarded(view: View) -> View:
    """A view whose POST creates something: the same form sent twice creates it once."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        token = request.POST.get(FIELD, "")
        if not WELL_FORMED.fullmatch(token):
            return out_of_date(request)
        request.once_token, request.once_location = token, None
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = Submission.objects.create(user=request.user, token=token)
            except IntegrityError:
                return _again(request, token)
            response = view(request, *args, **kwargs)
            if request.once_location:
                Submission.objects.filter(pk=row.pk).update(location=request.once_location)
            else:
                row.delete()
        return response

    return wrapped


def remove_old(now: datetime | None = None) -> int:
    """Forgets forms sent more than a day ago (the worker's clean-up); returns how many."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    return Submission.objects.filter(created_at__lt=cutoff).delete()[0]
