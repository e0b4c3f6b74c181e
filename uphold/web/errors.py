"""Error pages in the user's language, from our own templates."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _page(request: HttpRequest, status: int, **extra) -> HttpResponse:
    return render(request, "web/error.html", {"status": status, **extra}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # A form with megabytes pasted into it is refused before any view runs.
    if isinstance(exception, RequestDataTooBig):
        return _page(request, 400, too_big_mb=settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024))
    return _page(request, 400)


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500)
