"""Rendering shared by the pages of every app."""

from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def form_page(
    request: HttpRequest, template: str, context: dict, form: Form | None = None
) -> HttpResponse:
    """A page with a form: 400 when the form has errors, so a refused post never reads as 200."""
    status = 400 if form is not None and form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)
