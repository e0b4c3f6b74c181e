"""Logging in and out, joining by invitation, passwords, re-authentication, site admin pages."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from uphold.processes.models import Process, Role
from uphold.processes.permissions import is_verified
from uphold.web import demo, once
from uphold.web.access import account_view, public_view

from . import services
from .forms import (
    AccountSettingsForm,
    ChangePasswordForm,
    InviteAccountForm,
    LoginForm,
    NewAccountForm,
    ReauthForm,
    RecoverForm,
    ResetForm,
)
from .models import User, hash_token
from .qr import svg_data_uri

ENROL_SALT = "uphold.enrol"
KEYS_REFUSED = gettext_lazy(
    "Your keys were not opened: the settings stored with them on this server are outside the "
    "safe range. You are not logged in and nothing was changed. Tell whoever runs this server: "
    "someone may have altered its database."
)
KEYS_ALTERED = gettext_lazy(
    "Your password and code are right, but your keys on this server do not open with them: "
    "what is stored for them was changed. You are not logged in and nothing was changed. Tell "
    "whoever runs this server."
)
CODE_SPENT = gettext_lazy(
    "This code was used already. Wait until your authenticator app shows the next code, then "
    "enter that one."
)


def _safe_next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False):
        return target
    return reverse(default)


@public_view
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if is_verified(request.user):
        return redirect(_safe_next(request))
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = services.log_in(request, data["username"], data["password"], data["code"])
        if result.locked:
            return render(request, "accounts/locked.html", status=429)
        if result.user:
            response = redirect(_safe_next(request))
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                result.user.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
            return response
        if result.code_spent:
            form.add_error("code", CODE_SPENT)
        elif result.keys_refused:
            form.add_error(None, KEYS_REFUSED)
        elif result.keys_altered:
            form.add_error(None, KEYS_ALTERED)
        else:
            form.add_error(None, _("That username, password or code is wrong."))
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "next": request.GET.get("next", ""),
            "demo_accounts": demo.accounts_for(request),
        },
        status=400 if form.errors else 200,
    )


@public_view
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("login")


@public_view
@require_POST
def leave_view(request: HttpRequest) -> HttpResponse:
    """Leave quickly: end the session and show a neutral site."""
    logout(request)
    return redirect(settings.UPHOLD_LEAVE_URL)


@public_view
@require_http_methods(["GET", "POST"])
def invite_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.find_invitation(token)
    except services.InvitationError as error:
        return render(request, "accounts/invite_invalid.html", {"error": error}, status=404)
    if is_verified(request.user):
        return _join_as_member(request, token, invitation)
    return _join_with_new_account(request, token, invitation)


def _invited_as(invitation) -> str:
    """The role's label in the reader's language. The page is seen without keys, so never the
    process's own words for the people involved: those are stored encrypted."""
    if invitation.process:
        return str(Role(invitation.role).label) if invitation.role in Role.values else ""
    return _("site admin") if invitation.site_admin else ""


def _join_as_member(request: HttpRequest, token: str, invitation) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            membership = services.accept_as_member(request.user, token)
        except (services.InvitationError, ValidationError) as exc:
            error = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        else:
            messages.success(request, _("You have joined the process."))
            return redirect("process", code=membership.process.code)
    return render(
        request,
        "accounts/invite_join.html",
        {"invitation": invitation, "role": _invited_as(invitation), "error": error},
        status=400 if error else 200,
    )


def _join_with_new_account(request: HttpRequest, token: str, invitation) -> HttpResponse:
    """One form, one transaction: account, authenticator and membership, or nothing at all."""
    form = NewAccountForm(
        request.POST if request.method == "POST" else None,
        initial={"language": request.LANGUAGE_CODE},
    )

    def accept(data: dict, key: str):
        return services.accept_with_new_account(
            token,
            username=data["username"],
            password=data["password1"],
            language=data["language"],
            totp_key=key,
            code=data["code"],
        )

    label = invitation.process.code if invitation.process else "account"
    context = {"invitation": invitation, "role": _invited_as(invitation)}
    return _enrol(request, token, form, accept, label, "accounts/invite_new.html", context)


def _enrol(request, token, form, accept, label, template, context) -> HttpResponse:
    """Set-up of a password and an authenticator, then the recovery words, shown once.

    The authenticator key travels signed in the form, so showing the page stores nothing.
    """
    salt = f"{ENROL_SALT}:{hash_token(token)}"
    key = None
    if request.method == "POST":
        try:
            key = signing.loads(request.POST.get("enrolment", ""), salt=salt, max_age=3600)
        except signing.BadSignature:
            form.add_error(None, _("The set-up form is too old. Scan the new QR code."))
        if key and form.is_valid():
            try:
                account = accept(form.cleaned_data, key)
            except services.InvitationError as error:
                form.add_error(None, str(error))
            else:
                # Shown in this response only; the words are never stored anywhere.
                return render(
                    request,
                    "accounts/recovery_words.html",
                    {"account": account, "words": account.recovery_words.split()},
                )
    key = key or services.new_totp_key()
    return render(
        request,
        template,
        {
            **context,
            "form": form,
            "enrolment": signing.dumps(key, salt=salt),
            "qr": svg_data_uri(services.totp_uri(key, label)),
            "secret": services.authenticator_key(key, grouped=True),
        },
        status=400 if form.errors else 200,
    )


@public_view
@require_http_methods(["GET", "POST"])
def reset_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        reset = services.find_reset(token)
    except services.InvitationError as error:
        return render(request, "accounts/invite_invalid.html", {"error": error}, status=404)
    form = ResetForm(request.POST if request.method == "POST" else None, user=reset.user)

    def accept(data: dict, key: str):
        return services.complete_reset(
            token, password=data["password1"], totp_key=key, code=data["code"]
        )

    return _enrol(request, token, form, accept, "account", "accounts/reset.html", {"reset": reset})


@public_view
@require_http_methods(["GET", "POST"])
def recover_view(request: HttpRequest) -> HttpResponse:
    form = RecoverForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = services.recover_with_words(
            request, data["username"], data["words"], data["code"], data["password1"]
        )
        if result.locked:
            return render(request, "accounts/locked.html", status=429)
        if result.user:
            messages.success(
                request, _("Your new password is set and your keys are kept. Log in with it.")
            )
            return redirect("login")
        if result.code_spent:
            form.add_error("code", CODE_SPENT)
        else:
            form.add_error(None, _("That username, those words or that code is wrong."))
    return render(
        request, "accounts/recover.html", {"form": form}, status=400 if form.errors else 200
    )


@account_view()
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            identity = services.change_password(
                request, data["current_password"], data["code"], data["password1"]
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            if identity is services.Identity.LOCKED:
                return render(request, "accounts/locked.html", status=429)
            if identity is services.Identity.CONFIRMED:
                messages.success(request, _("Your password is changed. Other sessions have ended."))
                return redirect("home")
            if identity is services.Identity.CODE_SPENT:
                form.add_error("code", CODE_SPENT)
            else:
                form.add_error(None, _("That password or code is wrong."))
    return render(
        request, "accounts/password.html", {"form": form}, status=400 if form.errors else 200
    )


@account_view()
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = AccountSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"email": user.email, "time_zone": user.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        services.change_settings(user, **form.cleaned_data)
        messages.success(request, _("Your settings are saved."))
        return redirect("account-settings")
    return render(
        request, "accounts/settings.html", {"form": form}, status=400 if form.errors else 200
    )


@account_view()
@require_http_methods(["GET", "POST"])
def reauth_view(request: HttpRequest) -> HttpResponse:
    form = ReauthForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identity = services.reauthenticate(request, data["password"], data["code"])
        if identity is services.Identity.LOCKED:
            return render(request, "accounts/locked.html", status=429)
        if identity is services.Identity.CONFIRMED:
            return redirect(_safe_next(request))
        if identity is services.Identity.CODE_SPENT:
            form.add_error("code", CODE_SPENT)
        else:
            form.add_error(None, _("That password or code is wrong."))
    return render(
        request,
        "accounts/reauth.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if form.errors else 200,
    )


@account_view("admin.accounts", reauth=True)
@require_http_methods(["GET", "POST"])
@once.guarded
def admin_accounts_view(request: HttpRequest) -> HttpResponse:
    form = InviteAccountForm(request.POST if request.method == "POST" else None)
    link = None
    if request.method == "POST" and form.is_valid():
        _invitation, token = services.invite_account(
            request.user, site_admin=form.cleaned_data["site_admin"]
        )
        link = request.build_absolute_uri(f"/invite/{token}/")
        once.saved(request, reverse("admin-accounts"))
        form = InviteAccountForm()
    locked = services.locked_usernames()
    users = [
        {"user": user, "locked": user.username in locked}
        for user in User.objects.order_by("username")
    ]
    return render(
        request, "accounts/admin_accounts.html", {"form": form, "users": users, "link": link}
    )


@account_view("admin.accounts", reauth=True)
@require_POST
def admin_account_active_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    active = request.POST.get("active") == "1"
    try:
        services.set_active(request.user, user, active)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            (_("%(name)s can log in again.") if active else _("%(name)s is disabled."))
            % {"name": user.username},
        )
    return redirect("admin-accounts")


@account_view("admin.accounts", reauth=True)
@require_POST
def admin_account_reset_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    try:
        token = services.issue_reset(request.user, user)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("admin-accounts")
    return render(
        request,
        "accounts/admin_reset.html",
        {"target": user, "link": request.build_absolute_uri(f"/reset/{token}/")},
    )


@account_view("admin.accounts", reauth=True)
@require_POST
def admin_account_unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    services.unlock(request.user, user)
    messages.success(request, _("%(name)s is unlocked.") % {"name": user.username})
    return redirect("admin-accounts")


@account_view("admin.health")
@require_http_methods(["GET"])
def admin_health_view(request: HttpRequest) -> HttpResponse:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    health = {
        "database": connection.vendor,
        "pending_migrations": len(pending),
        "accounts": User.objects.filter(is_active=True).count(),
        "processes": Process.objects.count(),
    }
    return render(request, "accounts/admin_health.html", {"health": health})
