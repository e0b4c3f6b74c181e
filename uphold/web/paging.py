"""Long lists in pages: `?page=N`, a pager that says "page N of M", a clear answer to a bad N.

The caller counts what it lists in a cheap way (a count over clear columns, or a number it
already has, such as the audit chain's head) and fetches only the rows of the page asked for,
so a page's work is bounded by what it shows.
"""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

PER_PAGE = 50
# Longer than any page number a list can reach; a longer one is simply out of range.
MAX_DIGITS = 9


class BadPage(Exception):
    """A page number that is not one (400) or that the list does not reach (404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Pager:
    number: int
    pages: int
    per_page: int
    previous_url: str | None
    next_url: str | None

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def limit(self) -> int:
        return self.offset + self.per_page


def page_number(request: HttpRequest) -> int:
    """The page asked for (1 when none is); raises BadPage for anything but a whole number."""
    raw = request.GET.get("page", "").strip()
    if raw == "":
        return 1
    digits = raw.lstrip("0") if raw.isascii() and raw.isdigit() else ""
    if not digits:
        raise BadPage(
            400,
            _("“%(page)s” is not a page number. Page numbers are whole numbers: 1, 2, 3 …")
            % {"page": raw[:20]},
        )
    return int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS


def pager(request: HttpRequest, total: int, per_page: int = PER_PAGE) -> Pager:
    """The page of a list of `total` items that the request asks for.

    Raises BadPage: 400 for `page=abc`, 404 for a page past the last one. An empty list
    has one (empty) page.
    """
    number = page_number(request)
    pages = max(1, -(-total // per_page))
    if number > pages:
        raise BadPage(
            404,
            _("There is no page %(number)s here: the last page is %(pages)s.")
            % {"number": number, "pages": pages},
        )
    return Pager(
        number=number,
        pages=pages,
        per_page=per_page,
        previous_url=_url(request, number - 1) if number > 1 else None,
        next_url=_url(request, number + 1) if number < pages else None,
    )


def _url(request: HttpRequest, number: int) -> str:
    """This page's address with another page number; the other choices (filter, search) kept."""
    query = request.GET.copy()
    query.pop("page", None)
    if number > 1:
        query["page"] = str(number)
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


def refused(request: HttpRequest, error: BadPage, context: dict) -> HttpResponse:
    """The answer to a bad page number, on the page's own frame (`context`): what was wrong,
    and a way to the first page."""
    query = request.GET.copy()
    query.pop("page", None)
    first = f"{request.path}?{query.urlencode()}" if query else request.path
    return render(
        request,
        "web/bad_page.html",
        {**context, "message": error.message, "first_url": first},
        status=error.status,
    )
