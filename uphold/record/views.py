"""Pages of the record: the log, meetings, steps and confirmations to X.

Each view turns HTTP into one service call and back.
"""

import re
from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold.attachments.views import _finished, receive
from uphold.demands import queries as demand_queries
from uphold.demands.models import Demand
from uphold.mailin import queries as mail_queries
from uphold.portal import services as portal
from uphold.processes import scopes
from uphold.processes.models import Membership
from uphold.processes.permissions import allowed
from uphold.processes.queries import meeting_zone, terms_of
from uphold.web import once, paging
from uphold.web.access import process_view, public_view
from uphold.web.pages import CONFLICT, add_errors, form_page
from uphold.web.process_page import process_context

from . import calendar, queries, search, services, timeline
from .forms import (
    ConfirmationForm,
    EntryEditForm,
    EntryForm,
    MeetingForm,
    OutcomeForm,
    PastMeetingForm,
    StepChangeForm,
    StepForm,
)
from .health import SHOWN_SILENCE_DAYS
from .models import Confirmation, Entry, EntryKind, Meeting, Owner, SendState, Step, StepStatus, Tag


def _page(
    request, template: str, membership: Membership, form=None, *, tab: str, **extra
) -> HttpResponse:
    return form_page(request, template, process_context(membership, tab, **extra), form)


def _zones(membership: Membership) -> dict:
    """Meeting times are in the zone of the group that meets X; the member's own beside it."""
    return {"zone": meeting_zone(membership.process), "own_zone": timezone.get_current_timezone()}


def _demands(membership: Membership) -> list[Demand]:
    return demand_queries.for_choices(membership.process)


def _entry_form(request, membership, cls=EntryForm, **kwargs):
    return cls(
        request.POST if request.method == "POST" else None,
        process=membership.process,
        group=queries.group_of(membership.process),
        **kwargs,
    )


# The log


@process_view("record.view")
@require_GET
def log_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    portal.file_waiting(request.user, membership)  # what X sent lands in the log
    tag = request.GET.get("tag", "")
    if tag not in Tag.values:
        tag = ""
    show = request.GET.get("show", "")
    if show not in queries.SHOWS:
        show = ""
    form = None
    if allowed(membership, "record.write"):
        form = _entry_form(
            request,
            membership,
            initial={
                "occurred_on": timezone.localdate(),
                "kind": EntryKind.MESSAGE,
                "direction": "to_x",
                "by": str(request.user.pk),
            },
        )
    process = membership.process
    query = request.GET.get("q", "").strip()
    search_error = None
    if len(query) > search.MAX_QUERY:
        search_error = _("Search for at most %(count)s characters. Nothing was searched.") % {
            "count": search.MAX_QUERY
        }
        query = ""
    # An empty search shows the log; a search opens the newest entries' text (search.py).
    found = search.search_entries(process, query, tag, show) if query else None
    total = len(found.ids) if found is not None else queries.entry_count(process, tag, show)
    try:
        pager = paging.pager(request, total, queries.LOG_PAGE)
    except paging.BadPage as error:
        return paging.refused(request, error, process_context(membership, "log"))
    if found is not None:
        entries = queries.entries(process, ids=found.ids[pager.offset : pager.limit])
    else:
        entries = queries.entries(process, tag, pager.offset, pager.per_page, show=show)
    response = _page(
        request,
        "record/log.html",
        membership,
        form,
        tab="log",
        entries=entries,
        pager=pager,
        tag=tag,
        tags=Tag.choices,
        show=show,
        shows=[(key, label) for key, (_q, label) in queries.SHOWS.items()],
        query=query,
        found=found,
        search_max=search.MAX_QUERY,
        search_error=search_error,
        **queries.overview(membership),
    )
    if search_error:
        response.status_code = 400
    return response


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def entry_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    initial = {"occurred_on": timezone.localdate(), "by": request.user.pk}
    about = request.GET.get("about", "")
    if re.fullmatch(r"[0-9]{1,11}", about):  # "Log something about them", from their page
        initial["around"] = [int(about)]
    form = _entry_form(request, membership, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.add_entry(
                request.user,
                membership.process,
                form.data_object(),
                confirm_future=form.cleaned_data["confirm_future"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Logged."))
            if request.POST.get("then") == "log":
                return once.redirect(request, "log", code=membership.process.code)
            return once.redirect(request, "entry", code=membership.process.code, entry_id=entry.pk)
    return _page(request, "record/entry_form.html", membership, form, tab="log")


def _get_entry(membership: Membership, entry_id: int) -> Entry:
    return get_object_or_404(
        Entry.objects.select_related("by", "created_by"), process=membership.process, pk=entry_id
    )


@process_view("record.view")
@require_GET
def entry_view(request: HttpRequest, membership: Membership, entry_id: int) -> HttpResponse:
    portal.file_waiting(request.user, membership)
    entry = _get_entry(membership, entry_id)
    return _page(
        request,
        "record/entry.html",
        membership,
        tab="log",
        entry=entry,
        entry_demands=list(entry.demands.order_by("number")),
        around=list(
            entry.around.filter(process=membership.process).only(
                "pk", "process", "relation", "name"
            )
        ),
        versions=list(entry.versions.select_related("by", "replaced_by")),
        documents=[{"attachment": a, "name": a.name} for a in entry.attachments.all()],
        meeting=Meeting.objects.filter(entry=entry).first(),
        thread=mail_queries.thread_of(entry),
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def entry_edit_view(request: HttpRequest, membership: Membership, entry_id: int) -> HttpResponse:
    entry = _get_entry(membership, entry_id)
    initial = {
        "occurred_on": entry.occurred_on,
        "kind": entry.kind,
        "direction": entry.direction,
        "channel": entry.channel,
        "by": str(entry.by_id or ""),
        "summary": entry.summary,
        "text": entry.text,
        "people": entry.people,
        "around": list(entry.around.values_list("pk", flat=True)),
        "tags": entry.tags,
        "demands": list(entry.demands.values_list("number", flat=True)),
        "revision": entry.revision,
    }
    form = _entry_form(request, membership, EntryEditForm, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_entry(
                request.user,
                membership.process,
                entry.pk,
                form.data_object(),
                base_revision=form.cleaned_data["revision"],
                why=form.cleaned_data["why"],
                confirm_future=form.cleaned_data["confirm_future"],
            )
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            entry.refresh_from_db(fields=["revision"])
            form.data = form.data.copy()
            form.data["revision"] = entry.revision
        else:
            messages.success(request, _("The entry is changed; the earlier version is kept."))
            return once.redirect(request, "entry", code=membership.process.code, entry_id=entry.pk)
    return _page(request, "record/entry_form.html", membership, form, tab="log", entry=entry)


# The handler must be in place before anything reads the body (see attachments/views.py).
@csrf_exempt
@process_view("record.write")
@require_POST
def entry_upload_view(request: HttpRequest, membership: Membership, entry_id: int) -> HttpResponse:
    entry = _get_entry(membership, entry_id)
    back = reverse("entry", args=[membership.process.code, entry.pk])
    return receive(request, membership, scopes.RECORD, "record.write", _entry_upload, back, entry)


@csrf_protect
def _entry_upload(request, membership, handler, entry: Entry) -> HttpResponse:
    if _finished(request, handler):
        services.attach(request.user, membership.process, entry.pk, handler.writer.attachment)
        messages.success(request, _("The file is stored, encrypted, with this entry."))
    return redirect("entry", code=membership.process.code, entry_id=entry.pk)


# Meetings


@process_view("record.view")
@require_GET
def meetings_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    process = membership.process
    try:
        pager = paging.pager(request, queries.meeting_count(process), queries.MEETINGS_PAGE)
    except paging.BadPage as error:
        return paging.refused(request, error, process_context(membership, "meetings"))
    return _page(
        request,
        "record/meetings.html",
        membership,
        tab="meetings",
        pager=pager,
        meetings=queries.meetings(process, pager.offset, pager.per_page),
        suggested=services.suggested_meeting_date(membership.process),
        now=timezone.now(),
        **_zones(membership),
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def meeting_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    suggested = services.suggested_meeting_date(membership.process)
    form = MeetingForm(
        request.POST if request.method == "POST" else None,
        group=queries.group_of(membership.process),
        initial={
            "planned_at": datetime.combine(suggested, time(18, 0)).strftime("%Y-%m-%dT%H:%M"),
            "x_expected": True,
            "attendees": [str(request.user.pk)],
        },
    )
    with timezone.override(meeting_zone(membership.process)):
        valid = request.method == "POST" and form.is_valid()
    if valid:
        try:
            meeting = services.plan_meeting(
                request.user,
                membership.process,
                planned_at=form.cleaned_data["planned_at"],
                place=form.cleaned_data["place"],
                attendees=form.chosen(),
                x_expected=form.cleaned_data["x_expected"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The meeting is planned."))
            return once.redirect(
                request, "meeting", code=membership.process.code, meeting_id=meeting.pk
            )
    return _page(
        request,
        "record/meeting_form.html",
        membership,
        form,
        tab="meetings",
        suggested=suggested,
        **_zones(membership),
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def meeting_past_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Enter a meeting that already happened: groups come to Uphold with years behind them."""
    form = PastMeetingForm(
        request.POST if request.method == "POST" else None,
        demands=_demands(membership),
        group=queries.group_of(membership.process),
        initial={"x_expected": True, "outcome": "held", "attendees": [str(request.user.pk)]},
    )
    with timezone.override(meeting_zone(membership.process)):
        valid = request.method == "POST" and form.is_valid()
    if valid:
        try:
            meeting = services.record_past_meeting(
                request.user,
                membership.process,
                held_at=form.cleaned_data["held_at"],
                outcome=form.cleaned_data["outcome"],
                place=form.cleaned_data["place"],
                attendees=form.chosen(),
                x_expected=form.cleaned_data["x_expected"],
                minutes=form.cleaned_data["minutes"],
                steps=form.steps(),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The meeting is entered."))
            return once.redirect(
                request, "meeting", code=membership.process.code, meeting_id=meeting.pk
            )
    return _page(
        request, "record/meeting_past.html", membership, form, tab="meetings", **_zones(membership)
    )


def _get_meeting(membership: Membership, meeting_id: int) -> Meeting:
    return get_object_or_404(
        Meeting.objects.select_related("outcome_by", "entry"),
        process=membership.process,
        pk=meeting_id,
    )


@process_view("record.view")
@require_GET
def meeting_view(request: HttpRequest, membership: Membership, meeting_id: int) -> HttpResponse:
    meeting = _get_meeting(membership, meeting_id)
    return _page(
        request,
        "record/meeting.html",
        membership,
        tab="meetings",
        meeting=meeting,
        attendees=list(meeting.attendees.order_by("username")),
        steps=list(meeting.steps.select_related("demand")),
        confirmation=Confirmation.objects.filter(meeting=meeting).first(),
        **_zones(membership),
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
def meeting_outcome_view(
    request: HttpRequest, membership: Membership, meeting_id: int
) -> HttpResponse:
    meeting = _get_meeting(membership, meeting_id)
    form = OutcomeForm(
        request.POST if request.method == "POST" else None, demands=_demands(membership)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_outcome(
                request.user,
                membership.process,
                meeting.pk,
                outcome=form.cleaned_data["outcome"],
                minutes=form.cleaned_data["minutes"],
                steps=form.steps(),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The outcome is recorded."))
            return redirect("meeting", code=membership.process.code, meeting_id=meeting.pk)
    return _page(
        request,
        "record/outcome.html",
        membership,
        form,
        tab="meetings",
        meeting=meeting,
        **_zones(membership),
    )


@process_view("record.view")
@require_GET
def meeting_ics_view(request: HttpRequest, membership: Membership, meeting_id: int) -> HttpResponse:
    meeting = _get_meeting(membership, meeting_id)
    return calendar.response(
        calendar.build([meeting], details=True), f"{membership.process.code}-{meeting.pk}.ics"
    )


@process_view("record.write")
@require_POST
def confirmation_prepare_view(
    request: HttpRequest, membership: Membership, meeting_id: int
) -> HttpResponse:
    meeting = _get_meeting(membership, meeting_id)
    try:
        services.prepare_confirmation(request.user, membership.process, meeting.pk, get_language())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("meeting", code=membership.process.code, meeting_id=meeting.pk)
    return redirect("confirmation", code=membership.process.code, meeting_id=meeting.pk)


@process_view("record.write")
@require_http_methods(["GET", "POST"])
def confirmation_view(
    request: HttpRequest, membership: Membership, meeting_id: int
) -> HttpResponse:
    meeting = _get_meeting(membership, meeting_id)
    confirmation = get_object_or_404(Confirmation, meeting=meeting)
    if request.method == "POST" and confirmation.state == SendState.SENT:
        # Sent once only (its own claim in the service): a repeat of the form shows what went.
        messages.info(request, _("This was sent already; here it is."))
        return redirect("meeting", code=membership.process.code, meeting_id=meeting.pk)
    form = ConfirmationForm(
        request.POST if request.method == "POST" else None,
        initial={
            "to_address": confirmation.draft_to_address or confirmation.to_address,
            "subject": confirmation.draft_subject or confirmation.subject,
            "body": confirmation.draft_body or confirmation.body,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            confirmation = services.send_confirmation(
                request.user, membership.process, confirmation.pk, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            if confirmation.state == SendState.SENT:
                messages.success(request, _("The confirmation is sent to X."))
                return redirect("meeting", code=membership.process.code, meeting_id=meeting.pk)
            form.add_error(
                None,
                _(
                    "The mail server could not be reached, so the confirmation was not sent. "
                    "It is saved as not sent. Try again in a while."
                ),
            )
    return _page(
        request,
        "record/confirmation.html",
        membership,
        form,
        tab="meetings",
        meeting=meeting,
        confirmation=confirmation,
    )


# Steps


@process_view("record.view")
@require_GET
def steps_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    process = membership.process
    owner = request.GET.get("owner", "")
    owner = owner if owner in Owner.values else ""
    status = request.GET.get("status", "")
    status = status if status in {*StepStatus.values, queries.OVERDUE} else ""
    try:
        pager = paging.pager(
            request, queries.step_count(process, owner, status), queries.STEPS_PAGE
        )
    except paging.BadPage as error:
        return paging.refused(request, error, process_context(membership, "steps"))
    return _page(
        request,
        "record/steps.html",
        membership,
        tab="steps",
        pager=pager,
        steps=queries.steps(process, pager.offset, pager.per_page, owner, status),
        today=timezone.localdate(),
        owner=owner,
        status=status,
        owners=Owner.choices,
        statuses=[*StepStatus.choices, (queries.OVERDUE, _("overdue"))],
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
@once.guarded
def step_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = StepForm(
        request.POST if request.method == "POST" else None, demands=_demands(membership)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.add_step(request.user, membership.process, form.data_object())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The step is added."))
            return once.redirect(request, "steps", code=membership.process.code)
    return _page(request, "record/step_add.html", membership, form, tab="steps")


def _get_step(membership: Membership, step_id: int) -> Step:
    return get_object_or_404(
        Step.objects.select_related("demand", "meeting"), process=membership.process, pk=step_id
    )


@process_view("record.view")
@require_GET
def step_view(request: HttpRequest, membership: Membership, step_id: int) -> HttpResponse:
    step = _get_step(membership, step_id)
    return _page(
        request,
        "record/step.html",
        membership,
        tab="steps",
        step=step,
        changes=list(step.changes.select_related("by")),
    )


@process_view("record.write")
@require_http_methods(["GET", "POST"])
def step_change_view(request: HttpRequest, membership: Membership, step_id: int) -> HttpResponse:
    step = _get_step(membership, step_id)
    form = StepChangeForm(
        request.POST if request.method == "POST" else None,
        initial={
            "status": step.status,
            "owner": step.owner,
            "owner_seen": step.owner,
            "status_seen": step.status,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_step(request.user, membership.process, step.pk, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        except services.Conflict:
            form.add_error(None, CONFLICT)
            step.refresh_from_db(fields=["owner", "status"])
            form.data = form.data.copy()
            form.data["owner_seen"], form.data["status_seen"] = step.owner, step.status
        else:
            messages.success(request, _("Recorded."))
            return redirect("step", code=membership.process.code, step_id=step.pk)
    return _page(request, "record/step_change.html", membership, form, tab="steps", step=step)


# Calendar feeds


@process_view("calendar.feed")
@require_http_methods(["GET", "POST"])
@once.guarded
def feeds_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    new_link = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            try:
                feed_id = int(request.POST["revoke"])
            except ValueError:
                feed_id = 0
            calendar.revoke_feed(request.user, membership.process, feed_id)
            messages.success(request, _("The calendar link no longer works."))
            return once.redirect(request, "feeds", code=membership.process.code)
        _feed, token = calendar.create_feed(
            request.user, membership.process, with_place=request.POST.get("with_place") == "on"
        )
        new_link = request.build_absolute_uri(reverse("feed", kwargs={"token": token}))
        once.saved(request, reverse("feeds", kwargs={"code": membership.process.code}))
    return _page(
        request,
        "record/feeds.html",
        membership,
        tab="meetings",
        feeds=list(membership.feeds.filter(revoked_at__isnull=True)),
        new_link=new_link,
    )


@public_view
@require_GET
def feed_view(request: HttpRequest, token: str) -> HttpResponse:
    """A calendar app fetches this without a login: clear fields only."""
    ics = calendar.feed_calendar(token)
    if ics is None:
        return HttpResponse(
            _("This calendar link was revoked or never existed."),
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    return calendar.response(ics, "uphold.ics")


# The timeline


@process_view("figures.view")
@require_GET
def timeline_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    process = membership.process
    today = timezone.localdate()
    raw = request.GET.get("year", "").strip()
    first = timeline.first_day(process) or today
    years = timeline.years_of(first, today)
    year, error = None, None
    if raw:
        year = int(raw) if re.fullmatch(r"[0-9]{4}", raw) else None  # ASCII digits only
        if year not in years:
            error = _(
                "The timeline has no year “%(year)s”: choose one of the years listed, or the "
                "whole process."
            ) % {"year": raw[:10]}
            year = None
    drawn = timeline.timeline(process, today, year, first)
    names = [_lane_names(membership)[lane] for lane in timeline.LANES]
    response = _page(
        request,
        "record/timeline.html",
        membership,
        tab="log",
        timeline=drawn,
        drawing=timeline.drawing(drawn, _lane_names(membership), _period(year), _silence_words),
        count_lanes=names,
        rows=_event_rows(drawn, names),
        shown_silence=SHOWN_SILENCE_DAYS,
        error=error,
    )
    if error:
        response.status_code = 400
    return response


def _event_rows(drawn, names: list[str]) -> SafeString:
    """The table's rows beside the drawing, written here (a year has hundreds of busy days;
    a template loop over their cells would cost more than the rest of the page)."""
    form = "DATE_FORMAT" if drawn.year else "YEAR_MONTH_FORMAT"
    labels = [escape(name) for name in names]
    rows = []
    for bucket in drawn.busy:
        cells = "".join(
            f'<td data-label="{label}">{n}</td>'
            for label, n in zip(labels, bucket.values, strict=True)
        )
        period = escape(date_format(bucket.start, form))
        rows.append(f'<tr><th scope="row">{period}</th>{cells}</tr>')
    return mark_safe("\n".join(rows))  # noqa: S308  (escaped words, and numbers)


def _lane_names(membership: Membership) -> dict[str, str]:
    name = terms_of(membership.process)["respondent"]
    return {
        "to_x": _("messages to %(name)s") % {"name": name},
        "from_x": _("messages from %(name)s") % {"name": name},
        "held": _("meetings held"),
        "missed": _("meetings missed"),
        "steps_due": _("steps due"),
        "steps_missed": _("steps missed"),
        "demands": _("demand status changes"),
        "silences": _("silences (days)"),
    }


def _period(year: int | None):
    """How a mark's period reads: a day of that year, or a month of the whole process."""
    form = "DATE_FORMAT" if year else "YEAR_MONTH_FORMAT"
    return lambda day: date_format(day, form)


def _silence_words(silence) -> str:
    values = {
        "days": silence.days,
        "start": date_format(silence.start, "DATE_FORMAT"),
        "end": date_format(silence.end, "DATE_FORMAT"),
    }
    if silence.running:
        return (
            ngettext(
                "%(days)s day without a reply since %(start)s, still going on",
                "%(days)s days without a reply since %(start)s, still going on",
                silence.days,
            )
            % values
        )
    return (
        ngettext(
            "%(days)s day without a reply, %(start)s to %(end)s",
            "%(days)s days without a reply, %(start)s to %(end)s",
            silence.days,
        )
        % values
    )
