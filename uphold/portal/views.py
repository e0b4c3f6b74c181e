"""X's portal: one page, and the form on it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from uphold.crypto import services as crypto
from uphold.crypto.keyring import opened
from uphold.processes import queries
from uphold.processes.models import Membership
from uphold.record.models import StepStatus
from uphold.web import once
from uphold.web.access import process_view
from uphold.web.pages import add_errors
from uphold.web.process_page import process_context

from . import services
from .forms import SendForm


@process_view("portal.view")
@require_GET
def portal_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _page(request, membership, SendForm())


@process_view("portal.send")
@require_POST
@once.guarded
def portal_send_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = SendForm(request.POST)
    if form.is_valid():
        try:
            services.send(
                request.user,
                membership.process,
                form.cleaned_data["kind"],
                form.cleaned_data["text"],
            )
        except services.PortalClosed:
            return _closed(request, membership)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("Sent. The contact group is told that something arrived, not what.")
            )
            return once.redirect(request, "portal", code=membership.process.code)
    return _page(request, membership, form, status=400)


def _page(request, membership: Membership, form: SendForm, status: int = 200) -> HttpResponse:
    try:
        portal = services.portal_of(request.user, membership.process)
    except services.PortalClosed:
        return _closed(request, membership)
    locked = _("(locked: the group has not given you the key yet)")
    context = process_context(
        membership,
        "portal",
        form=form,
        portal=portal,
        missing=queries.missing_scopes(membership),
        fingerprint=crypto.fingerprint_of(membership.user),
        demands=[
            {
                "number": d.number,
                "status": d.get_status_display(),
                "wording": opened(lambda d=d: d.wording, locked),
                "criteria": opened(lambda d=d: d.criteria, locked),
            }
            for d in portal.demands
        ],
        steps=[_step(s, locked) for s in portal.open_steps],
        closed_steps=[_step(s, locked) for s in portal.closed_steps],
        meeting=portal.meeting
        and {
            "at": portal.meeting.planned_at,
            "place": opened(lambda: portal.meeting.place, locked),
        },
        zone=queries.meeting_zone(membership.process),
        confirmations=[
            {
                "sent_at": c.sent_at,
                "subject": opened(lambda c=c: c.subject, locked),
                "body": opened(lambda c=c: c.body, locked),
            }
            for c in portal.confirmations
        ],
    )
    return render(request, "portal/portal.html", context, status=status)


def _step(step, locked: str) -> dict:
    return {
        "what": opened(lambda: step.what_x, locked),
        "due_on": step.due_on,
        "status": step.get_status_display(),
        "overdue": step.status == StepStatus.OPEN and step.due_on < timezone.localdate(),
    }


def _closed(request, membership: Membership) -> HttpResponse:
    return render(
        request,
        "portal/closed.html",
        process_context(membership, "portal"),
        status=403,
    )
