"""Process pages: the list, starting one, its overview, its members and its settings."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold.audit import services as audit
from uphold.crypto import keyring, rotation
from uphold.crypto import services as crypto
from uphold.dashboard import dashboard
from uphold.portal import services as portal
from uphold.record.queries import next_meeting
from uphold.web import once, paging
from uphold.web.access import account_view, process_view
from uphold.web.pages import add_errors, form_page
from uphold.web.process_page import process_context

from . import codenames, queries, services
from .forms import (
    BeganForm,
    GroupForm,
    InviteMemberForm,
    PortalForm,
    RhythmForm,
    StartProcessForm,
    WordsForm,
)
from .keycheck import keys_outside_roles
from .models import Membership
from .permissions import INVITABLE, allowed, authorize, own_group


@account_view("process.start")
@require_http_methods(["GET", "POST"])
def start_view(request: HttpRequest) -> HttpResponse:
    """The code name is the one proposed to this user; a refused one gets a new proposal."""
    form = StartProcessForm(request.POST if request.method == "POST" else None)
    code = None
    if request.method == "POST":
        code = codenames.read(request.user, request.POST.get("proposal", ""))
        if code is None:
            form.add_error(None, services.UNUSABLE_CODE)
        elif form.is_valid():
            try:
                process = services.start_process(
                    request.user, code, form.cleaned_data["role"], form.setup()
                )
            except ValidationError as error:
                if getattr(error, "code", None) == "code":
                    if queries.is_member(request.user, code):  # pressed twice: it started
                        return redirect("process", code=code)
                    code = None
                form.add_error(None, error)
            else:
                return redirect("process", code=process.code)
    code = code or codenames.propose()
    context = {"code": code, "proposal": codenames.sign(request.user, code)}
    return form_page(request, "processes/start.html", context, form)


@process_view("process.view")
@require_GET
def process_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    if not allowed(membership, "process.overview"):
        return redirect("portal", code=membership.process.code)  # X's page is his portal
    portal.file_waiting(request.user, membership)
    return render(
        request,
        "processes/process.html",
        process_context(
            membership,
            "overview",
            title=queries.readable_title(membership.process),
            missing=queries.missing_scopes(membership),
            fingerprint=crypto.fingerprint_of(membership.user),
            groups=queries.groups_of(membership),
            demands=queries.demand_counts(membership.process),
            **(_dashboard(membership) if allowed(membership, "figures.view") else {}),
        ),
    )


def _dashboard(membership: Membership) -> dict:
    process = membership.process
    return {
        "board": dashboard(process, timezone.localdate()),
        "zone": queries.meeting_zone(process),
        "next_meeting": next_meeting(process),
    }


@process_view("members.view")
@require_GET
def members_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    strays = keys_outside_roles(membership.process, keyring.current())
    return render(
        request,
        "processes/members.html",
        process_context(
            membership,
            "members",
            access=crypto.access_of(membership.process, strays),
            strays=strays,
            unfinished_rotation=rotation.unfinished(membership.process),
            can_invite=allowed(membership, "members.invite"),
            removable=INVITABLE.get(membership.role, frozenset()),
            invitations=queries.open_invitations(membership.process),
        ),
    )


@process_view("members.grant")
@require_POST
def grant_view(request: HttpRequest, membership: Membership, member_id: int) -> HttpResponse:
    if request.POST.get("checked") != "yes":
        messages.error(request, _("First check the key fingerprint with the person."))
        return redirect("members", code=membership.process.code)
    try:
        missing = services.grant_access(
            request.user, membership.process, member_id, request.POST.get("fingerprint", "")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("members", code=membership.process.code)
    if missing:
        messages.error(
            request,
            _("You do not hold every key this member needs. Another member can give the rest."),
        )
    else:
        messages.success(request, _("The member can now read what their role allows."))
    return redirect("members", code=membership.process.code)


@process_view("keys.rotate")
@require_POST
def rotate_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        services.rotate_keys(request.user, membership.process)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("members", code=membership.process.code)
    messages.success(
        request, _("The keys are replaced. Someone who has left cannot open anything new.")
    )
    return redirect("members", code=membership.process.code)


@process_view("audit.view")
@require_GET
def audit_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    head = queries.audit_head(membership.process)
    try:
        pager = paging.pager(request, head.seq if head else 0)
    except paging.BadPage as error:
        return paging.refused(request, error, process_context(membership, "audit"))
    return render(
        request,
        "processes/audit.html",
        process_context(
            membership,
            "audit",
            events=queries.audit_events(membership.process, head.seq - pager.offset, pager.per_page)
            if head
            else [],
            head=head,
            pager=pager,
            # The sealed head and the events since it: bounded work per view. The whole walk
            # and the row-by-row check are for `uphold verify`, whose cost grows with the record.
            problem=audit.verify_recent(keyring.current(), membership.process),
        ),
    )


@process_view("members.invite", reauth=True)
@require_http_methods(["GET", "POST"])
@once.guarded
def invite_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    roles = sorted(INVITABLE.get(membership.role, frozenset()))
    form = InviteMemberForm(request.POST if request.method == "POST" else None, roles=roles)
    link = None
    if request.method == "POST" and form.is_valid():
        _invitation, token = services.invite_member(
            request.user, membership.process, form.cleaned_data["role"]
        )
        link = request.build_absolute_uri(f"/invite/{token}/")
        once.saved(request, reverse("members", kwargs={"code": membership.process.code}))
    return render(
        request,
        "processes/invite.html",
        process_context(membership, "members", form=form, link=link),
        status=400 if form.errors else 200,
    )


def _refusal(error: ValidationError | PermissionDenied) -> str:
    """What a refused member action says on the members page."""
    return error.messages[0] if isinstance(error, ValidationError) else str(error)


@process_view("members.remove")
@require_POST
def remove_view(request: HttpRequest, membership: Membership, member_id: int) -> HttpResponse:
    try:
        services.remove_member(request.user, membership.process, member_id)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(
            request,
            _(
                "The member is removed and can no longer open the process. They may have kept "
                "copies of keys: replace the keys below so nothing new opens for them."
            ),
        )
    return redirect("members", code=membership.process.code)


@process_view("members.withdraw")
@require_POST
def withdraw_view(request: HttpRequest, membership: Membership, invitation_id: int) -> HttpResponse:
    try:
        services.withdraw_invitation(request.user, membership.process, invitation_id)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(
            request,
            _("The link is withdrawn. Whoever opens it is told it has expired, and cannot join."),
        )
    return redirect("members", code=membership.process.code)


# The settings page: each section is one form and one service, for the roles that own it.

SECTIONS = {
    "words": (WordsForm, "settings.words"),
    "rhythm": (RhythmForm, "settings.rhythm"),
    "began": (BeganForm, "settings.began"),
    "group": (GroupForm, "settings.group"),
    "portal": (PortalForm, "settings.portal"),
}
INCOMPLETE = gettext_lazy("Nothing was saved: the form arrived incomplete. Try again.")
SETTINGS_CONFLICT = gettext_lazy(
    "Another member changed this while you were working on it, so nothing was saved. What is "
    "stored now is listed below; your values are kept in the form. Press Save again to use yours."
)


def _current(membership: Membership, section: str) -> dict:
    process = membership.process
    if section == "group":
        group = queries.own_group_of(membership)
        return {
            "place": group.place if group else "",
            "time_zone": group.time_zone if group else "",
        }
    return {name: getattr(process, name) for name in SECTIONS[section][0].names}


def _save(request: HttpRequest, membership: Membership, form) -> list[str]:
    """Calls the section's service; returns the names of what changed."""
    data = form.changes()
    if form.section != "group":
        return services.change_settings(request.user, membership.process, seen=form.seen(), **data)
    group = queries.own_group_of(membership)
    if group is None:
        services.add_group(request.user, membership.process, **data)
        return list(data)
    # A group added by someone else since the form showed none is a conflict: seen is empty.
    return services.change_group(
        request.user, membership.process, group.pk, seen=form.seen(), **data
    )


@process_view("settings.view")
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    posted = request.POST.get("section") if request.method == "POST" else None
    if posted in SECTIONS:  # a section of another role's is refused before its form is read
        authorize(request.user, SECTIONS[posted][1], membership.process)
    mine = [
        name
        for name, (_form, action) in SECTIONS.items()
        if allowed(membership, action) and (name != "group" or own_group(membership) is not None)
    ]
    forms = {
        name: SECTIONS[name][0](
            request.POST if name == posted else None, current=_current(membership, name)
        )
        for name in mine
    }
    error, conflict = None, []
    if request.method == "POST":
        form = forms.get(posted)
        if form is None:
            error = INCOMPLETE
        elif form.is_valid():
            try:
                changed = _save(request, membership, form)
            except ValidationError as problem:
                add_errors(form, problem)
            except services.Conflict:
                membership.process.refresh_from_db()
                current = _current(membership, posted)
                form.saw(current)
                form.add_error(None, SETTINGS_CONFLICT)
                conflict = [(form.fields[name].label, current[name]) for name in form.names]
            else:
                if changed:
                    messages.success(request, _("Saved."))
                else:
                    messages.info(request, _("Nothing changed: the values were already these."))
                return redirect("process-settings", code=membership.process.code)
    bad = error or any(form.errors for form in forms.values())
    return render(
        request,
        "processes/settings.html",
        process_context(
            membership,
            None,  # reached from the overview; no tab of its own
            forms=forms,
            has_group=queries.own_group_of(membership) is not None,
            error=error,
            conflict=conflict,
            conflict_section=posted if conflict else None,
        ),
        status=400 if bad else 200,
    )
