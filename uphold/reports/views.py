"""The reports page: each kind shown as it will read, and exported as HTML, PDF or Markdown."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from uphold.crypto.keyring import opened
from uphold.processes.models import Membership
from uphold.processes.permissions import allowed
from uphold.web.access import process_view
from uphold.web.pages import add_errors
from uphold.web.process_page import process_context

from . import render as reports_render
from . import services
from .forms import WordsForm
from .models import ReportExport, ReportFormat, ReportKind


@process_view("reports.export")
@require_GET
def reports_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    kind = request.GET.get("kind", ReportKind.REPORT_BACK)
    status, error = 200, None
    if kind not in ReportKind.values:
        status, error, kind = 400, _unknown_kind(), ReportKind.REPORT_BACK
    return _page(request, membership, status, kind, error=error)


CONFLICT = gettext_lazy(
    "Someone saved the group's words for this report while you were writing, so nothing was "
    "saved. Their words are in the report below; yours are kept in the form: compare them and "
    "save again."
)


@process_view("reports.draft")
@require_POST
def report_words_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in ReportKind.values:
        return _page(request, membership, 400, ReportKind.REPORT_BACK, error=_unknown_kind())
    process = membership.process
    form = WordsForm(kind, services.drafts_of(process, kind), request.POST)
    if form.is_valid():
        try:
            services.save_drafts(request.user, process, kind, form.texts(), form.revisions())
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            form.loaded(services.drafts_of(process, kind))
        else:
            messages.success(request, _("The group's words are saved; the report below has them."))
            return redirect(f"{reverse('reports', args=[process.code])}?kind={kind}#report")
    return _page(request, membership, 400, kind, form=form)


@process_view("reports.export")
@require_POST
def report_export_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    kind, fmt = request.POST.get("kind", ""), request.POST.get("format", "")
    try:
        made = services.export(request.user, membership.process, kind, fmt, timezone.localdate())
    except ValidationError as error:
        refusal = " ".join(error.messages)
        return _page(request, membership, 400, _kind_or_default(kind), error=refusal)
    response = HttpResponse(made.content, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response


def _page(
    request, membership: Membership, status: int, kind: str, form: WordsForm | None = None, **extra
) -> HttpResponse:
    """The page for a kind: the report as it reads, the group's words in a form for those who
    draft them, and the latest exports."""
    process = membership.process
    ctx, body = services.preview(request.user, process, kind, timezone.localdate())
    if form is None and allowed(membership, "reports.draft"):
        form = WordsForm(kind, services.drafts_of(process, kind))
    exports = ReportExport.objects.filter(process=process).select_related("exported_by")[:10]
    wishes = _wishes(membership, kind)
    context = process_context(
        membership,
        "reports",
        kind=kind,
        kinds=ReportKind.choices,
        formats=ReportFormat.choices,
        report=ctx,
        body=body,
        form=form,
        exports=exports,
        **wishes,
        **extra,
    )
    return render(request, "reports/reports.html", context, status=status)


def _wishes(membership: Membership, kind: str) -> dict:
    """What the survivor's side asked for that bears on this kind: for an update, what they do
    not want to hear about; for a report-back, what must be kept from its readers."""
    from uphold.survivor.services import described, preferences_of

    if not allowed(membership, "survivor.wishes"):
        return {}
    locked = _("(locked: you do not have the key yet)")
    process = membership.process
    prefs = preferences_of(process)
    withheld = described(services.withheld_for(process, kind), locked)
    avoid = opened(lambda: prefs.avoid, locked) if prefs.pk else ""
    return {"prefs": prefs, "avoid": avoid, "withheld": withheld}


def _kind_or_default(kind: str) -> str:
    return kind if kind in ReportKind.values else ReportKind.REPORT_BACK


def _unknown_kind() -> str:
    return _("There is no such kind of report. Here is the report-back.")


@process_view("reports.release")  # the service checks who releases which kind
@require_POST
def report_release_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    kind = request.POST.get("kind", "")
    checked = request.POST.get("checked") == "on"
    try:
        services.release(
            request.user, membership.process, kind, timezone.localdate(), checked=checked
        )
    except ValidationError as error:
        refusal = " ".join(error.messages)
        return _page(request, membership, 400, _kind_or_default(kind), error=refusal)
    messages.success(
        request, _("Released. Those it is for can read it now, under “Released reports”.")
    )
    return redirect(f"{reverse('reports', args=[membership.process.code])}?kind={kind}")


@process_view("reports.released")
@require_GET
def released_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    shown = [
        {"report": r, "body": reports_render.html_fragment(r.text)}
        for r in services.released_for(membership)
    ]
    return render(
        request,
        "reports/released.html",
        process_context(membership, "released-reports", released=shown),
    )
