"""The survivor's side's page, their preferences, their requests, and the survivor's choice of
full access; and, for the groups, the requests waiting for an answer."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold.crypto.keyring import opened
from uphold.demands.models import ChangeProposal, Demand, ProposalState
from uphold.processes.models import Membership, Role
from uphold.processes.permissions import allowed
from uphold.reports import render as reports_render
from uphold.reports.models import ReleasedReport, ReportKind
from uphold.web import once
from uphold.web.access import process_view
from uphold.web.pages import add_errors
from uphold.web.process_page import process_context

from . import services
from .forms import AskForm, DeclineForm, PreferencesForm, ReleaseItemForm, WithholdingForm
from .models import ItemRequest, ReleasedItem, RequestState, Through, Withholding

LOCKED = gettext_lazy("(locked: you do not have the key yet)")
LISTED = 20
CONFLICT = gettext_lazy(
    "Someone changed these preferences while you were choosing, so nothing was saved. Your "
    "choices are kept below: look at them again, and save to use them."
)


@process_view("survivor.view")
@require_GET
def survivor_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _survivor_page(request, membership, AskForm())


def _survivor_page(request, membership: Membership, ask: AskForm, status: int = 200):
    process = membership.process
    prefs = services.preferences_of(process)
    # Updates go to the survivor directly only if they chose so; their support group reads
    # them always.
    direct = membership.role != Role.SURVIVOR or prefs.through == Through.DIRECTLY
    updates = []
    if direct:
        for report in ReleasedReport.objects.filter(
            process=process, kind=ReportKind.SURVIVOR_UPDATE
        )[:LISTED]:
            text = opened(lambda r=report: r.text, None)
            body = reports_render.html_fragment(text) if text is not None else None
            updates.append({"report": report, "body": body})
    context = process_context(
        membership,
        "survivor",
        prefs=prefs,
        direct=direct,
        updates=updates,
        demands=[
            {"demand": d, "wording": opened(lambda d=d: d.wording, LOCKED)}
            for d in Demand.objects.filter(process=process).order_by("number")
        ],
        waiting=list(
            ChangeProposal.objects.filter(process=process, state=ProposalState.WAITING)
            .select_related("demand")
            .order_by("pk")[:LISTED]
        ),
        items=[
            {"item": i, "text": opened(lambda i=i: i.text, LOCKED)}
            for i in ReleasedItem.objects.filter(process=process)[:LISTED]
        ],
        requests=[
            {
                "request": r,
                "what": opened(lambda r=r: r.what, LOCKED),
                "answer": opened(lambda r=r: r.answer, LOCKED),
            }
            for r in ItemRequest.objects.filter(process=process)[:LISTED]
        ],
        ask=ask,
    )
    return render(request, "survivor/survivor.html", context, status=status)


@process_view("survivor.request")
@require_POST
@once.guarded
def ask_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = AskForm(request.POST)
    if form.is_valid():
        try:
            services.ask_for_item(request.user, membership.process, form.cleaned_data["what"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Asked. The contact group is told that you asked."))
            return once.redirect(request, "survivor", code=membership.process.code)
    return _survivor_page(request, membership, form, status=400)


@process_view("survivor.preferences")
@require_http_methods(["GET", "POST"])
def preferences_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    process = membership.process
    initial = _saved(process)
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        wishes = services.Wishes(
            data["rhythm"],
            data["through"],
            data["taking_part"],
            data["content_note"],
            data["avoid"],
        )
        try:
            services.save_preferences(request.user, process, wishes, base_revision=data["revision"])
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.data = form.data.copy()  # their choices stay; saving again applies them
            form.data["revision"] = services.preferences_of(process).revision
            form.add_error(None, CONFLICT)
        else:
            messages.success(request, _("Your preferences are saved."))
            return redirect("survivor-preferences", code=process.code)
    return _preferences_page(request, membership, form, WithholdingForm())


def _saved(process) -> dict:
    """The preferences as saved (or the defaults), as the form shows them."""
    prefs = services.preferences_of(process)
    return {
        "rhythm": prefs.rhythm,
        "through": prefs.through,
        "taking_part": prefs.taking_part,
        "content_note": prefs.content_note,
        "avoid": opened(lambda: prefs.avoid, "") if prefs.pk else "",
        "revision": prefs.revision,
    }


def _preferences_page(request, membership, form, withhold, status=None) -> HttpResponse:
    rows = services.described(Withholding.objects.filter(process=membership.process), LOCKED)
    bad = form.errors or withhold.errors
    return render(
        request,
        "survivor/preferences.html",
        process_context(
            membership,
            "survivor",
            form=form,
            withhold=withhold,
            withheld=rows,
            saved=services.preferences_of(membership.process).pk is not None,
        ),
        status=status or (400 if bad else 200),
    )


@process_view("survivor.preferences")
@require_POST
@once.guarded
def withhold_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = WithholdingForm(request.POST)
    if form.is_valid():
        try:
            services.add_withholding(request.user, membership.process, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Noted. The groups see it before they pass anything on."))
            return once.redirect(request, "survivor-preferences", code=membership.process.code)
    prefs = PreferencesForm(initial=_saved(membership.process))
    return _preferences_page(request, membership, prefs, form, status=400)


@process_view("survivor.preferences")
@require_POST
def withhold_remove_view(
    request: HttpRequest, membership: Membership, withholding_id: int
) -> HttpResponse:
    services.remove_withholding(request.user, membership.process, withholding_id)
    messages.success(request, _("Removed."))
    return redirect("survivor-preferences", code=membership.process.code)


@process_view("survivor.full_access")
@require_http_methods(["GET", "POST"])
def access_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    if request.method == "POST":
        choice = request.POST.get("full_access")
        if choice not in ("on", "off"):
            messages.error(request, _("Choose whether you want to read the whole record."))
            return render(
                request,
                "survivor/access.html",
                process_context(membership, "survivor"),
                status=400,
            )
        services.set_full_access(request.user, membership.process, choice == "on")
        if choice == "on":
            messages.success(
                request,
                _(
                    "Chosen. Your support or contact group now gives you the record's key, "
                    "after checking your key fingerprint with you."
                ),
            )
        else:
            messages.success(request, _("Done: you no longer read the whole record."))
        return redirect("survivor-access", code=membership.process.code)
    return render(request, "survivor/access.html", process_context(membership, "survivor"))


# The groups' side: the requests, and the contact group's answer to each.


@process_view("survivor.requests")
@require_GET
def requests_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _requests_page(request, membership)


def _requests_page(request, membership, failed: dict | None = None, status: int = 200):
    process = membership.process
    rows = []
    for r in ItemRequest.objects.filter(process=process).select_related("asked_by")[:LISTED]:
        forms = (failed or {}).get(r.pk, (ReleaseItemForm(), DeclineForm()))
        for form in forms:  # one form of each per request on the page: ids of their own
            form.auto_id = f"id_%s_{r.pk}"
        rows.append(
            {
                "request": r,
                "what": opened(lambda r=r: r.what, LOCKED),
                "answer": opened(lambda r=r: r.answer, LOCKED),
                "release": forms[0],
                "decline": forms[1],
            }
        )
    return render(
        request,
        "survivor/requests.html",
        process_context(
            membership,
            "requests",
            rows=rows,
            may_release=allowed(membership, "survivor.release_item"),
            open_state=RequestState.OPEN,
        ),
        status=status,
    )


@process_view("survivor.release_item")
@require_POST
def item_release_view(request: HttpRequest, membership: Membership, request_id: int):
    form = ReleaseItemForm(request.POST)
    if form.is_valid():
        try:
            services.release_item(
                request.user,
                membership.process,
                request_id,
                entry_id=form.cleaned_data["entry"],
                meeting_id=form.cleaned_data["meeting"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Released. The survivor's side can read it now."))
            return redirect("item-requests", code=membership.process.code)
    return _requests_page(request, membership, {request_id: (form, DeclineForm())}, 400)


@process_view("survivor.release_item")
@require_POST
def item_decline_view(request: HttpRequest, membership: Membership, request_id: int):
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.decline_item(
                request.user, membership.process, request_id, form.cleaned_data["answer"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Answered. The survivor's side reads your answer."))
            return redirect("item-requests", code=membership.process.code)
    return _requests_page(request, membership, {request_id: (ReleaseItemForm(), form)}, 400)
