"""The shell's own pages: home (the process list), and the error pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from uphold.processes.permissions import may_on_server, may_start_process
from uphold.processes.queries import memberships_of

from .access import account_view


@account_view()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/home.html",
        {
            "memberships": memberships_of(request.user),
            "can_start": may_start_process(request.user),
            "can_see_programmes": may_on_server(request.user, "programmes.view"),
        },
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "web/csrf_failure.html", status=403)
