"""Rendering shared by the pages of every app."""

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

# What an edit made against an older version says (services raise their Conflict).
CONFLICT = gettext_lazy(
    "Someone changed this while you were working on it, so nothing was saved. Your text is "
    "kept below: compare it with the current version and save again."
)


def form_page(
    request: HttpRequest, template: str, context: dict, form: Form | None = None
) -> HttpResponse:
    """A page with a form: 400 when the form has errors, so a refused post never reads as 200."""
    status = 400 if form is not None and form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)


def add_errors(form: Form, error: ValidationError) -> None:
    """A service's refusal on the form: by field where it names one, else above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)
