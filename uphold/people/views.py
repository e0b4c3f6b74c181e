"""Pages of the people and circles around X, and of the informing demand at a glance.

Each view turns HTTP into one service call and back; read by the support and contact groups,
written by the contact group, like the rest of the record.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold.demands import queries as demand_queries
from uphold.demands.models import Demand
from uphold.processes.models import Membership
from uphold.processes.permissions import allowed
from uphold.record.models import Entry
from uphold.web import once, paging
from uphold.web.access import process_view
from uphold.web.pages import CONFLICT, add_errors, form_page
from uphold.web.process_page import process_context

from . import queries, services
from .forms import InformingDemandForm, InformingForm, PersonEditForm, PersonForm, StanceForm
from .models import Kind, Person


def _page(request, template: str, membership: Membership, form=None, **extra) -> HttpResponse:
    return form_page(request, template, process_context(membership, "people", **extra), form)


def _person(membership: Membership, person_id: int) -> Person:
    return get_object_or_404(Person, process=membership.process, pk=person_id)


@process_view("record.view")
@require_GET
def people_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in Kind.values:
        kind = ""
    process = membership.process
    try:
        pager = paging.pager(request, queries.people_of(process, kind).count(), queries.PEOPLE_PAGE)
    except paging.BadPage as error:
        return paging.refused(request, error, process_context(membership, "people"))
    return _page(
        request,
        "people/people.html",
        membership,
        rows=queries.people_page(process, kind, pager.offset),
        pager=pager,
        kind=kind,
        kinds=Kind.choices,
        informing=queries.informing_view(process),
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def person_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = PersonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.add_person(request.user, membership.process, form.data_object())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Added. Record here whether they were informed."))
            return once.redirect(
                request, "person", code=membership.process.code, person_id=person.pk
            )
    return _page(request, "people/person_form.html", membership, form)


@process_view("record.view")
@require_GET
def person_view(request: HttpRequest, membership: Membership, person_id: int) -> HttpResponse:
    person = _person(membership, person_id)
    try:
        pager = paging.pager(request, queries.about(person).count(), queries.ENTRIES_PAGE)
    except paging.BadPage as error:
        return paging.refused(request, error, process_context(membership, "people"))
    # Only rows of this process, whatever a row written behind Uphold's back points to.
    informings = list(person.informings.filter(process=person.process_id).select_related("entry"))
    return _page(
        request,
        "people/person.html",
        membership,
        person=person,
        informed=queries.informed(person, [(i.by, i.reach) for i in informings]),
        informings=informings,
        stances=list(person.stances.filter(process=person.process_id).select_related("entry")),
        entries=queries.entries_about(person, pager.offset),
        pager=pager,
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def person_edit_view(request: HttpRequest, membership: Membership, person_id: int) -> HttpResponse:
    person = _person(membership, person_id)
    initial = {
        "relation": person.relation,
        "name": person.name,
        "joined_on": person.joined_on,
        "left_on": person.left_on,
        "asked_on": person.asked_on,
        "answer": person.answer,
        "notes": person.notes,
        "revision": person.revision,
    }
    form = PersonEditForm(
        request.POST if request.method == "POST" else None, initial=initial, kind=person.kind
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_person(
                request.user,
                membership.process,
                person.pk,
                form.data_object(),
                base_revision=form.cleaned_data["revision"],
            )
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            person.refresh_from_db(fields=["revision"])
            form.data = form.data.copy()
            form.data["revision"] = person.revision
        else:
            messages.success(request, _("Saved."))
            return once.redirect(
                request, "person", code=membership.process.code, person_id=person.pk
            )
    return _page(request, "people/person_form.html", membership, form, person=person)


def _entries_for(person: Person) -> list[Entry]:
    """What a change may be linked to: the entries about them, then the newest of the log."""
    about = list(queries.about(person).order_by("-occurred_on", "-pk").defer("text", "people")[:30])
    known = {e.pk for e in about}
    latest = Entry.objects.filter(process_id=person.process_id).exclude(pk__in=known)
    return about + list(latest.order_by("-occurred_on", "-pk").defer("text", "people")[:20])


def _shown_in(request, membership, person_id: int, form_class, write, template_title: str):
    person = _person(membership, person_id)
    extra = {"circle": person.is_circle} if form_class is InformingForm else {}
    form = form_class(
        request.POST if request.method == "POST" else None,
        entries=_entries_for(person),
        **extra,
    )
    if request.method == "POST" and form.is_valid():
        try:
            write(request.user, membership.process, person.pk, form.data_object())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return once.redirect(
                request, "person", code=membership.process.code, person_id=person.pk
            )
    return _page(
        request, "people/change_form.html", membership, form, person=person, title=template_title
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def informed_view(request: HttpRequest, membership: Membership, person_id: int) -> HttpResponse:
    return _shown_in(
        request, membership, person_id, InformingForm, services.add_informing, _("Informed")
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def stance_view(request: HttpRequest, membership: Membership, person_id: int) -> HttpResponse:
    return _shown_in(
        request, membership, person_id, StanceForm, services.change_stance, _("Stance")
    )


def _demands(membership: Membership) -> list[Demand]:
    return demand_queries.for_choices(membership.process)


@process_view("record.view")
@require_GET
def informing_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    view = queries.informing_view(membership.process)
    form = None
    if allowed(membership, "record.write"):
        form = InformingDemandForm(
            initial={"demand": view.demand.number if view.demand else None},
            demands=_demands(membership),
        )
    return _page(request, "people/informing.html", membership, form, view=view)


@process_view("record.write")
@require_POST
def informing_demand_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = InformingDemandForm(request.POST, demands=_demands(membership))
    if "demand" not in request.POST:  # a choice, even "not said yet", is always sent
        form.add_error(None, _("Choose the demand, or “not said yet”, and save again."))
    if form.is_valid():
        try:
            services.set_informing_demand(
                request.user, membership.process, form.cleaned_data["demand"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("informing", code=membership.process.code)
    view = queries.informing_view(membership.process)
    return _page(request, "people/informing.html", membership, form, view=view)
