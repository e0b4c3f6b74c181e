"""Pages of the programme directory (shared by the server) and of a process's referrals.

Each view turns HTTP into one service call and back.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from uphold.attachments.views import UNREADABLE, _unreadable
from uphold.processes.models import Membership
from uphold.web import once, paging
from uphold.web.access import account_view, process_view
from uphold.web.pages import CONFLICT, add_errors, form_page
from uphold.web.process_page import process_context

from . import csvimport, queries, services
from .forms import (
    NOTHING_ABOUT_A_CASE,
    FilterForm,
    ImportForm,
    ProgrammeForm,
    ReferralChangeForm,
    ReferralForm,
)
from .models import Programme, Referral, ResearchedBy, Status

# The directory


@account_view("programmes.view")
@require_GET
def directory_view(request: HttpRequest) -> HttpResponse:
    chosen = queries.Filter.of(request.GET)
    context = {
        "filter_form": FilterForm(
            {"region": chosen.region, "kind": chosen.kind, "language": chosen.language}
        ),
        "chosen": chosen,
    }
    try:
        pager = paging.pager(request, queries.programme_count(chosen), queries.DIRECTORY_PAGE)
    except paging.BadPage as error:
        return paging.refused(request, error, context)
    return render(
        request,
        "programmes/directory.html",
        {**context, "pager": pager, "programmes": queries.programmes(chosen, pager.offset)},
    )


@account_view("programmes.edit")
@require_http_methods(["GET", "POST"])
@once.guarded
def programme_add_view(request: HttpRequest) -> HttpResponse:
    form = ProgrammeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.add_programme(request.user, form.data_object())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The programme is in the directory."))
            return once.redirect(request, "programme", programme_id=programme.pk)
    return form_page(
        request, "programmes/programme_form.html", {"warning": NOTHING_ABOUT_A_CASE}, form
    )


@account_view("programmes.view")
@require_GET
def programme_view(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = get_object_or_404(
        Programme.objects.select_related("created_by", "changed_by"), pk=programme_id
    )
    return render(
        request,
        "programmes/programme.html",
        {
            "programme": programme,
            "versions": list(programme.versions.select_related("written_by", "replaced_by")),
        },
    )


@account_view("programmes.edit")
@require_http_methods(["GET", "POST"])
def programme_edit_view(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = get_object_or_404(Programme, pk=programme_id)
    initial = {
        "name": programme.name,
        "region": programme.region,
        "kind": programme.kind,
        "languages": programme.languages_text,
        "contact": programme.contact,
        "notes": programme.notes,
        "hears_survivor": programme.hears_survivor,
        "revision": programme.revision,
    }
    form = ProgrammeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_programme(
                request.user,
                programme.pk,
                form.data_object(),
                base_revision=form.cleaned_data["revision"] or 0,
            )
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            programme.refresh_from_db()
            form.data = form.data.copy()
            form.data["revision"] = programme.revision
        else:
            messages.success(request, _("Saved. What it said before is kept in its history."))
            return redirect("programme", programme_id=programme.pk)
    return form_page(
        request,
        "programmes/programme_form.html",
        {"programme": programme, "warning": NOTHING_ABOUT_A_CASE},
        form,
    )


class CappedUpload(FileUploadHandler):
    """Keeps an uploaded CSV file in memory up to one byte past the limit, and stops reading
    there: a file too large is refused without being stored anywhere."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.parts: list[bytes] = []
        self.size = 0
        self.too_large = False

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.parts, self.size = [], 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.parts.append(raw_data)
        self.size += len(raw_data)
        if self.size > csvimport.MAX_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=False)

    def file_complete(self, file_size: int):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile(self.file_name or "upload.csv", b"".join(self.parts))


@csrf_exempt
@account_view("programmes.edit")
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    """The handler must be in place before anything reads the body, and the CSRF check reads
    it; so the page checks CSRF itself (csrf_protect), never skipped."""
    handler = CappedUpload(request)
    request.upload_handlers = [handler]
    try:
        return _checked_import_page(request, handler)
    except UNREADABLE as error:
        context = {
            "columns": csvimport.COLUMNS,
            "problem": _unreadable(error),
            "form": ImportForm(),
        }
        return render(request, "programmes/import.html", context, status=400)


def _import_page(request: HttpRequest, handler: CappedUpload) -> HttpResponse:
    context = {"columns": csvimport.COLUMNS}
    if request.method != "POST":
        return form_page(request, "programmes/import.html", context, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    data = b"x" * (csvimport.MAX_BYTES + 1) if handler.too_large else None
    if data is None and form.is_valid():
        data = form.cleaned_data["file"].read()
    if data is not None:
        try:
            count = csvimport.import_file(request.user, data)
        except csvimport.Refused as refused:
            form.add_error(None, _("Nothing was imported. Correct the file and upload it again."))
            context |= {"refused": refused}
        else:
            messages.success(
                request, _("%(count)s programmes were added to the directory.") % {"count": count}
            )
            return once.redirect(request, "programmes")
    return form_page(request, "programmes/import.html", context, form)


# CSRF first (a post without its token is refused as everywhere), then the one-time token.
_checked_import_page = csrf_protect(once.guarded(_import_page))


# A process's referrals


def _page(request, template, membership, form=None, **extra) -> HttpResponse:
    return form_page(request, template, process_context(membership, "programme", **extra), form)


@process_view("record.view")
@require_GET
def referrals_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    process = membership.process
    return _page(
        request,
        "programmes/referrals.html",
        membership,
        referrals=queries.referrals(process),
        figures=queries.referral_figures(process),
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def referral_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = ReferralForm(
        request.POST if request.method == "POST" else None,
        programmes=queries.programme_choices(),
        initial={
            "on": timezone.localdate(),
            "status": Status.RESEARCHING,
            "researched_by": ResearchedBy.X,
            "programme": request.GET.get("programme", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.add_referral(request.user, membership.process, form.data_object())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The referral is recorded."))
            return once.redirect(
                request, "referral", code=membership.process.code, referral_id=referral.pk
            )
    return _page(request, "programmes/referral_add.html", membership, form)


def _get_referral(membership: Membership, referral_id: int) -> Referral:
    return get_object_or_404(
        Referral.objects.select_related("programme"), process=membership.process, pk=referral_id
    )


@process_view("record.view")
@require_GET
def referral_view(request: HttpRequest, membership: Membership, referral_id: int) -> HttpResponse:
    referral = _get_referral(membership, referral_id)
    return _page(
        request,
        "programmes/referral.html",
        membership,
        referral=referral,
        changes=list(referral.changes.select_related("by")),
        by_group=referral.researched_by == ResearchedBy.GROUP,
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
def referral_change_view(
    request: HttpRequest, membership: Membership, referral_id: int
) -> HttpResponse:
    referral = _get_referral(membership, referral_id)
    form = ReferralChangeForm(
        request.POST if request.method == "POST" else None,
        initial={
            "status": referral.status,
            "status_seen": referral.status,
            "on": timezone.localdate(),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_referral(
                request.user, membership.process, referral.pk, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            referral.refresh_from_db(fields=["status"])
            form.data = form.data.copy()
            form.data["status_seen"] = referral.status
        else:
            messages.success(request, _("Recorded."))
            return redirect("referral", code=membership.process.code, referral_id=referral.pk)
    return _page(request, "programmes/referral_change.html", membership, form, referral=referral)
