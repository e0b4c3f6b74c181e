"""Pages of the letter and the demands. Each view turns HTTP into one service call and back."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from uphold.people.models import InformingDemand
from uphold.people.queries import informing_view
from uphold.processes.models import Membership
from uphold.processes.permissions import allowed
from uphold.processes.queries import terms_of
from uphold.record.queries import replies_from_x
from uphold.web import once
from uphold.web.access import process_view
from uphold.web.pages import form_page
from uphold.web.process_page import process_context

from . import queries, services
from .forms import (
    AnswerForm,
    DecisionForm,
    DemandForm,
    HandOverForm,
    LetterForm,
    ProgressForm,
    ProposalForm,
)
from .models import ChangeProposal, Demand, Letter, ProposalState

LETTER_CONFLICT = gettext_lazy(
    "Someone saved a new wording of the letter while you were working on it, so nothing was "
    "saved. Your text is kept below: compare it with the current wording and save again."
)
SENT_CONFLICT = gettext_lazy(
    "Someone saved a new wording of the letter since you opened this page, so nothing was "
    "marked. Read the current wording below, and mark it if it is the one handed over."
)
CONFLICT = gettext_lazy(
    "Someone changed this demand while you were working on it, so nothing was saved. "
    "Your text is kept below: compare it with the current demand and send it again."
)


def _page(request, template: str, membership: Membership, form=None, **extra) -> HttpResponse:
    return form_page(request, template, process_context(membership, "demands", **extra), form)


def _demand(membership: Membership, number: int) -> Demand:
    return get_object_or_404(Demand, process=membership.process, number=number)


@process_view("demands.view")
@require_GET
def letter_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    page = queries.letter_page(membership)
    current = page["current_version"]
    # Only the current wording can be marked, and only once.
    can_mark_sent = bool(
        allowed(membership, "letter.hand_over") and current and not current.version.sent
    )
    return _page(request, "demands/letter.html", membership, can_mark_sent=can_mark_sent, **page)


@process_view("letter.edit")
@require_http_methods(["GET", "POST"])
@once.guarded
def letter_edit_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    letter = Letter.objects.filter(process=membership.process).first()
    initial = {"text": letter.text, "revision": letter.revision} if letter else {"revision": 0}
    form = LetterForm(request.POST if request.method == "POST" else None, initial=initial)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.save_letter(
                request.user,
                membership.process,
                form.cleaned_data["text"],
                base_revision=form.cleaned_data["revision"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except services.Conflict:
            form.add_error(None, LETTER_CONFLICT)
            letter = Letter.objects.filter(process=membership.process).first()
            form.data = form.data.copy()
            form.data["revision"] = letter.revision if letter else 0
            conflict = True
        else:
            messages.success(request, _("The letter is saved; the earlier version is kept."))
            return once.redirect(request, "demands", code=membership.process.code)
    return _page(
        request, "demands/letter_edit.html", membership, form, letter=letter, conflict=conflict
    )


@process_view("letter.hand_over")
@require_http_methods(["GET", "POST"])
def letter_sent_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    letter = Letter.objects.filter(process=membership.process).first()
    form = HandOverForm(
        request.POST if request.method == "POST" else None,
        initial={"revision": letter.revision if letter else 0},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_sent(request.user, membership.process, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        except services.Conflict:
            form.add_error(None, SENT_CONFLICT)
            letter = Letter.objects.get(process=membership.process)
            form.data = form.data.copy()
            form.data["revision"] = letter.revision
        else:
            messages.success(request, _("The letter is marked as handed over."))
            return redirect("demands", code=membership.process.code)
    page = queries.letter_version(membership, letter.revision) if letter else None
    return _page(request, "demands/letter_sent.html", membership, form, page=page)


@process_view("demands.view")
@require_GET
def letter_version_view(
    request: HttpRequest, membership: Membership, revision: int
) -> HttpResponse:
    page = queries.letter_version(membership, revision)
    if page is None:
        raise Http404
    return _page(request, "demands/letter_version.html", membership, page=page)


def _add_errors(form, error: ValidationError) -> None:
    """A service's errors by field where the form has that field, else at the top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@process_view("demands.author")
@require_http_methods(["GET", "POST"])
@once.guarded
def demand_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = DemandForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            demand = services.add_demand(request.user, membership.process, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Demand %(n)s is added.") % {"n": demand.number})
            return once.redirect(
                request, "demand", code=membership.process.code, number=demand.number
            )
    return _page(request, "demands/demand_add.html", membership, form)


@process_view("demands.view")
@require_GET
def demand_view(request: HttpRequest, membership: Membership, number: int) -> HttpResponse:
    demand = _demand(membership, number)
    informing = None
    if allowed(membership, "record.view"):  # who around X is informed is the record's
        chosen = InformingDemand.objects.filter(process=membership.process, demand=demand)
        if chosen.exists():
            informing = informing_view(membership.process)
    return _page(
        request,
        "demands/demand.html",
        membership,
        page=queries.demand_page(membership, demand),
        informing=informing,
    )


@process_view("demands.propose")
@require_http_methods(["GET", "POST"])
@once.guarded
def propose_view(request: HttpRequest, membership: Membership, number: int) -> HttpResponse:
    demand = _demand(membership, number)
    current = {
        "wording": demand.wording,
        "reasons": demand.reasons,
        "criteria": demand.criteria,
        "revision": demand.revision,
    }
    form = ProposalForm(request.POST if request.method == "POST" else None, initial=current)
    if request.method == "POST" and form.is_valid():
        apply_now = request.POST.get("apply") == "now"
        data = form.cleaned_data
        try:
            proposal = services.propose_change(
                request.user,
                membership.process,
                number,
                wording=data["wording"],
                reasons=data["reasons"],
                criteria=data["criteria"],
                why=data["why"],
                softer=data["softer"],
                base_revision=data["revision"],
                apply_now=apply_now,
            )
        except ValidationError as error:
            form.add_error(None, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            demand.refresh_from_db(fields=["revision"])
            form.data = form.data.copy()
            form.data["revision"] = demand.revision
        else:
            if proposal.state == ProposalState.APPROVED:
                messages.success(request, _("The demand is changed; the earlier version is kept."))
            else:
                messages.success(
                    request,
                    _("Your proposal is sent. The survivor's side decides whether to take it."),
                )
            return once.redirect(request, "demand", code=membership.process.code, number=number)
    return _page(
        request,
        "demands/propose.html",
        membership,
        form,
        demand=demand,
        criteria=demand.criteria.splitlines(),
    )


@process_view("demands.decide")
@require_http_methods(["GET", "POST"])
def proposal_view(request: HttpRequest, membership: Membership, proposal_id: int) -> HttpResponse:
    proposal = get_object_or_404(
        ChangeProposal.objects.select_related("demand", "proposed_by", "decided_by"),
        process=membership.process,
        pk=proposal_id,
    )
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        approve = request.POST.get("decision") == "approve"
        try:
            services.decide(
                request.user,
                membership.process,
                proposal.pk,
                approve=approve,
                answer=form.cleaned_data["answer"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except services.Conflict:
            form.add_error(
                None,
                _(
                    "The demand changed after this proposal was made, so approving it would "
                    "undo that change. Refuse it; the proposer can propose again."
                ),
            )
        else:
            messages.success(
                request,
                _("The change is approved and applied.")
                if approve
                else _("The proposal is refused. The demand is unchanged."),
            )
            return redirect("demand", code=membership.process.code, number=proposal.demand.number)
    return _page(
        request,
        "demands/proposal.html",
        membership,
        form,
        proposal=proposal,
        changes=queries.proposal_with_changes(proposal),
        stale=proposal.base_revision != proposal.demand.revision,
    )


@process_view("demands.progress")
@require_http_methods(["GET", "POST"])
@once.guarded
def progress_view(request: HttpRequest, membership: Membership, number: int) -> HttpResponse:
    demand = _demand(membership, number)
    statuses = services.settable_statuses(membership, demand.status)
    form = ProgressForm(
        request.POST if request.method == "POST" else None,
        statuses=statuses,
        initial={"status": demand.status, "status_seen": demand.status},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_progress(request.user, membership.process, number, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            demand.refresh_from_db(fields=["status"])
            form.data = form.data.copy()
            form.data["status_seen"] = demand.status
        else:
            messages.success(request, _("Recorded."))
            return once.redirect(request, "demand", code=membership.process.code, number=number)
    return _page(request, "demands/progress.html", membership, form, demand=demand)


@process_view("demands.answer")
@require_http_methods(["GET", "POST"])
@once.guarded
def answer_view(request: HttpRequest, membership: Membership, number: int) -> HttpResponse:
    demand = _demand(membership, number)
    terms = terms_of(membership.process)
    form = AnswerForm(
        request.POST if request.method == "POST" else None,
        respondent=terms["respondent"],
        entries=replies_from_x(membership.process),
        initial={"said_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_answer(request.user, membership.process, number, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Recorded."))
            return once.redirect(request, "demand", code=membership.process.code, number=number)
    return _page(request, "demands/answer.html", membership, form, demand=demand)
