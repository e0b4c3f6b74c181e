"""Pages of reflections and reviews, and the survivor's side's page of released reviews.

Each view turns HTTP into one service call and back.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold import figures
from uphold.processes.models import Membership
from uphold.web import once
from uphold.web.access import process_view
from uphold.web.pages import add_errors, form_page
from uphold.web.process_page import process_context

from . import queries, services
from .forms import ReflectionForm, ReleaseForm, ReviewEditForm, ReviewForm, initial_of
from .models import QUESTIONS, REVERSED, Reflection, ReleasedReview, Review, Source
from .uploads import TextUpload

CONFLICT = gettext_lazy(
    "The review was changed while you were working on it, so nothing was saved. Your text is "
    "kept below: compare it with the current version and save again."
)


def _page(request, template: str, membership: Membership, form=None, **extra) -> HttpResponse:
    tab = extra.pop("tab", "reflections")
    return form_page(request, template, process_context(membership, tab, **extra), form)


def _pattern_context(process) -> dict:
    found = figures.patterns(process)
    return {
        "patterns": found,
        "questions": [(question, name in REVERSED) for name, question in QUESTIONS],
    }


@process_view("reflections.view")
@require_GET
def reflections_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    process = membership.process
    return _page(
        request,
        "reflections/reflections.html",
        membership,
        reflections=queries.reflections(process),
        **_pattern_context(process),
    )


# The upload handler must be in place before anything reads the body, and the CSRF check
# reads it: so the page behind checks CSRF itself (csrf_protect), never skipped.
@csrf_exempt
@process_view("reflections.write")
@require_http_methods(["GET", "POST"])
def reflection_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    request.upload_handlers = [TextUpload(request, services.MAX_FILE)]
    return _reflection_add(request, membership)


@csrf_protect
@once.guarded
def _reflection_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    initial = {"written_on": timezone.localdate(), "source": Source.PASTED}
    if request.GET.get("entry", "").isdigit():
        initial |= {"source": Source.ENTRY, "entry": request.GET["entry"]}
    posted = request.method == "POST"
    form = ReflectionForm(
        request.POST if posted else None, request.FILES if posted else None, initial=initial
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            text = data["text"]
            if data["source"] == Source.UPLOADED:
                upload = data["file"]
                if upload is None:
                    raise ValidationError({"file": [_("Choose the text file to upload.")]})
                text = services.text_of_file(upload.data, upload.size)
            reflection = services.add_reflection(
                request.user,
                membership.process,
                written_on=data["written_on"],
                source=data["source"],
                text=text,
                entry_id=data["entry"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The reflection is kept, encrypted."))
            return once.redirect(
                request, "reflection", code=membership.process.code, reflection_id=reflection.pk
            )
    return _page(request, "reflections/reflection_form.html", membership, form)


def _get_reflection(membership: Membership, reflection_id: int) -> Reflection:
    return get_object_or_404(
        Reflection.objects.select_related("created_by"),
        process=membership.process,
        pk=reflection_id,
    )


@process_view("reflections.view")
@require_GET
def reflection_view(
    request: HttpRequest, membership: Membership, reflection_id: int
) -> HttpResponse:
    reflection = _get_reflection(membership, reflection_id)
    reviews = queries.reviews_of(reflection)
    return _page(
        request,
        "reflections/reflection.html",
        membership,
        reflection=reflection,
        reviews=[
            {
                "review": r,
                "released": hasattr(r, "released"),
                "mine": services.may_edit(request.user, r),
            }
            for r in reviews
        ],
        rows=queries.side_by_side(
            reviews,
            [
                _("Review by %(name)s") % {"name": r.author.username if r.author else "?"}
                for r in reviews
            ],
        ),
    )


@process_view("reflections.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def review_add_view(
    request: HttpRequest, membership: Membership, reflection_id: int
) -> HttpResponse:
    reflection = _get_reflection(membership, reflection_id)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_review(request.user, membership.process, reflection.pk, form.answers())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Your review is saved."))
            return once.redirect(
                request, "reflection", code=membership.process.code, reflection_id=reflection.pk
            )
    return _page(request, "reflections/review_form.html", membership, form, reflection=reflection)


def _get_review(membership: Membership, review_id: int) -> Review:
    return get_object_or_404(
        Review.objects.select_related("reflection", "author"),
        process=membership.process,
        pk=review_id,
    )


@process_view("reflections.view")
@require_GET
def review_view(request: HttpRequest, membership: Membership, review_id: int) -> HttpResponse:
    review = _get_review(membership, review_id)
    versions = list(review.versions.all())
    copy = ReleasedReview.objects.filter(review=review).first()
    return _page(
        request,
        "reflections/review.html",
        membership,
        review=review,
        reflection=review.reflection,
        mine=services.may_edit(request.user, review),
        rows=queries.side_by_side(
            [review, *versions],
            [_("Now (version %(n)s)") % {"n": review.revision}]
            + [_("Version %(n)s") % {"n": v.revision} for v in versions],
        ),
        versions=versions,
        copy=copy,
        release_form=ReleaseForm(),
    )


@process_view("reflections.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def review_edit_view(request: HttpRequest, membership: Membership, review_id: int) -> HttpResponse:
    review = _get_review(membership, review_id)
    if not services.may_edit(request.user, review):
        raise PermissionDenied
    initial = initial_of(services.answers_of(review)) | {"revision": review.revision}
    form = ReviewEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_review(
                request.user,
                membership.process,
                review.pk,
                form.answers(),
                base_revision=form.cleaned_data["revision"],
            )
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            review.refresh_from_db(fields=["revision"])
            form.data = form.data.copy()
            form.data["revision"] = review.revision
        else:
            messages.success(request, _("Your review is changed; the earlier version is kept."))
            return once.redirect(
                request, "review", code=membership.process.code, review_id=review.pk
            )
    return _page(
        request,
        "reflections/review_form.html",
        membership,
        form,
        reflection=review.reflection,
        review=review,
    )


@process_view("reviews.release")
@require_http_methods(["GET", "POST"])
@once.guarded
def review_release_view(
    request: HttpRequest, membership: Membership, review_id: int
) -> HttpResponse:
    review = _get_review(membership, review_id)
    form = ReleaseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.release(
            request.user,
            membership.process,
            review.pk,
            with_quotes=form.cleaned_data["with_quotes"],
        )
        messages.success(request, _("The review is released to the survivor's side."))
        return once.redirect(request, "review", code=membership.process.code, review_id=review.pk)
    return _page(
        request,
        "reflections/release.html",
        membership,
        form,
        review=review,
        reflection=review.reflection,
        copy=ReleasedReview.objects.filter(review=review).first(),
    )


@process_view("reviews.release")
@require_POST
def review_withdraw_view(
    request: HttpRequest, membership: Membership, review_id: int
) -> HttpResponse:
    review = _get_review(membership, review_id)
    try:
        services.withdraw(request.user, membership.process, review.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The release is withdrawn: the survivor's side's copy is deleted.")
        )
    return redirect("review", code=membership.process.code, review_id=review.pk)


@process_view("reviews.released")
@require_GET
def released_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _page(
        request,
        "reflections/released.html",
        membership,
        tab="released",
        released=queries.released(membership.process),
    )
