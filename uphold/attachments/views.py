"""The process's documents: upload, list, download. For the support and contact groups."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold.crypto.keyring import NoKey
from uphold.processes import scopes
from uphold.processes.models import Membership
from uphold.web.access import process_view

from . import services
from .models import Attachment
from .uploads import EncryptingUploadHandler


def _documents(membership: Membership) -> list[dict]:
    """Each document with its name, or None where this member holds no key yet."""
    rows = []
    for attachment in Attachment.objects.filter(
        process=membership.process, scope=scopes.RECORD, complete=True
    ).order_by("-created_at"):
        try:
            name = attachment.name
        except NoKey:
            name = None
        rows.append({"attachment": attachment, "name": name})
    return rows


# The handler must be in place before anything reads the body, and the CSRF check reads it;
# so CSRF is checked just after (csrf_protect), never skipped.
@csrf_exempt
@process_view("documents.view")
@require_http_methods(["GET", "POST"])
def documents_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    handler = None
    if request.method == "POST":
        handler = EncryptingUploadHandler(request, membership.process, scopes.RECORD)
        request.upload_handlers = [handler]
    response = _documents_page(request, membership, handler)
    writer = handler.writer if handler else None
    if writer and not writer.attachment.complete:
        writer.abandon()  # refused (CSRF) or failed: nothing stays behind
    return response


@csrf_protect
def _documents_page(request, membership, handler) -> HttpResponse:
    status = 200
    if request.method == "POST":
        if not _finished(request, handler):
            status = 400
        else:
            messages.success(request, _("The file is stored, encrypted."))
            return redirect("documents", code=membership.process.code)
    return render(
        request,
        "attachments/documents.html",
        {
            "membership": membership,
            "process": membership.process,
            "documents": _documents(membership),
            "limit_mb": services.limit_bytes() // (1024 * 1024),
            "can_see_members": True,
            "can_see_audit": True,
        },
        status=status,
    )


@process_view("documents.view")
@require_GET
def download_view(request: HttpRequest, membership: Membership, attachment_id) -> HttpResponse:
    return _download(membership, attachment_id, scopes.RECORD)


@process_view("demands.view")
@require_GET
def letter_download_view(
    request: HttpRequest, membership: Membership, attachment_id
) -> HttpResponse:
    """The letter as sent, which every member of the process may read."""
    return _download(membership, attachment_id, scopes.SHARED)


@csrf_exempt
@process_view("letter.edit")
@require_POST
def letter_upload_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    handler = EncryptingUploadHandler(request, membership.process, scopes.SHARED, "letter.edit")
    request.upload_handlers = [handler]
    response = _letter_upload(request, membership, handler)
    if handler.writer and not handler.writer.attachment.complete:
        handler.writer.abandon()
    return response


@csrf_protect
def _letter_upload(request, membership, handler) -> HttpResponse:
    if _finished(request, handler):
        messages.success(request, _("The letter as sent is stored, encrypted."))
    return redirect("letter-edit", code=membership.process.code)


def _finished(request, handler) -> bool:
    """Finishes a received upload once CSRF has passed, or says what was wrong."""
    upload = request.FILES.get("file")
    if handler.too_large:
        messages.error(
            request,
            _("That file is larger than %(mb)s MB. Nothing was stored.")
            % {"mb": services.limit_bytes() // (1024 * 1024)},
        )
        return False
    if upload is None:
        messages.error(request, _("Choose a file first."))
        return False
    upload.writer.finish()
    return True


def _download(membership: Membership, attachment_id, scope: str) -> HttpResponse:
    attachment = get_object_or_404(
        Attachment, pk=attachment_id, process=membership.process, scope=scope, complete=True
    )
    response = StreamingHttpResponse(
        services.read(attachment), content_type="application/octet-stream"
    )
    response["Content-Length"] = str(attachment.size)
    response["Content-Disposition"] = "attachment"
    return response
