"""The process's documents: upload, list, download. For the support and contact groups."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold.crypto.keyring import NoKey
from uphold.processes import scopes
from uphold.processes.models import Membership
from uphold.web.access import process_view
from uphold.web.process_page import process_context

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


# What Django raises when it cannot read an upload's body, possibly after the handler has
# sealed part of the file already.
UNREADABLE = (
    TooManyFieldsSent,
    TooManyFilesSent,
    RequestDataTooBig,
    MultiPartParserError,
    UnreadablePostError,
)


def receive(
    request: HttpRequest,
    membership: Membership,
    scope: str,
    action: str,
    page,
    back: str,
    *args,
    handler: EncryptingUploadHandler | None = None,
) -> HttpResponse:
    """Runs `page(request, membership, handler, *args)` with the sealing handler in place.

    The handler must be in place before anything reads the body, and the CSRF check reads it;
    so `page` checks CSRF itself (csrf_protect), never skipped. A body Django cannot read is
    answered 400 with what was wrong; and on every way out, the CSRF refusal and exceptions
    included, an upload not finished is removed with its chunks.
    """
    handler = handler or EncryptingUploadHandler(request, membership.process, scope, action)
    request.upload_handlers = [handler]
    try:
        return page(request, membership, handler, *args)
    except UNREADABLE as error:
        return render(
            request,
            "attachments/upload_refused.html",
            {"problem": _unreadable(error), "back": back},
            status=400,
        )
    finally:
        handler.discard()


def _unreadable(error: Exception) -> str:
    if isinstance(error, TooManyFieldsSent):
        return _(
            "Uphold could not take this upload: it did not arrive the way a browser sends a "
            "file (it had more than %(count)s form fields). Nothing was stored. Try again; if "
            "it happens again, tell the person who runs the server."
        ) % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    if isinstance(error, RequestDataTooBig):
        return _(
            "The form fields sent with the file come to more than %(mb)s MB, so the upload "
            "was refused. Nothing was stored."
        ) % {"mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)}
    if isinstance(error, UnreadablePostError):
        return _("The upload was cut off before it ended. Nothing was stored.")
    return _(
        "The upload could not be read: it is not in the form a browser sends (for example, "
        "its transfer encoding is broken). Nothing was stored."
    )


@csrf_exempt
@process_view("documents.view")
@require_http_methods(["GET", "POST"])
def documents_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    if request.method != "POST":
        return _documents_page(request, membership, None)
    back = reverse("documents", args=[membership.process.code])
    return receive(request, membership, scopes.RECORD, "documents.upload", _documents_page, back)


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
        process_context(
            membership,
            "documents",
            documents=_documents(membership),
            limit_mb=services.limit_bytes() // (1024 * 1024),
        ),
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
    back = reverse("letter-edit", args=[membership.process.code])
    return receive(request, membership, scopes.SHARED, "letter.edit", _letter_upload, back)


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
