"""Forms for logging in, joining by invitation, re-authenticating and inviting."""

from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from . import services

# Each language named in itself, so that whoever cannot read the current one finds their own.
LANGUAGE_CHOICES = [
    (code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES
]
TIME_ZONES = sorted(available_timezones() - {"localtime", "Factory"})


class DateInput(forms.DateInput):
    """The browser's own date picker; the value travels as YYYY-MM-DD in every language."""

    input_type = "date"


def time_zone_choices(empty_label: str) -> list[tuple[str, str]]:
    return [("", empty_label)] + [(z, z.replace("_", " ")) for z in TIME_ZONES]


class LongSelect(forms.Select):
    """A select of hundreds of options (the time zones), its options written in Python: Django
    renders each option through a template of its own, which made a page with four time zone
    lists take a second. The same markup, attributes and escaping."""

    def render(self, name, value, attrs=None, renderer=None) -> str:
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, mark_safe(" selected") if str(choice) in chosen else "", label)
                for choice, label in self.choices
            ),
        )
        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)


class CodeField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Code from your authenticator app"))
        super().__init__(
            min_length=6,
            max_length=6,
            validators=[RegexValidator(r"^\d{6}$", _("Enter the six digits the app shows."))],
            widget=forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
            ),
            **kwargs,
        )


def username_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        label=_("Username"),
        max_length=services.USERNAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
        **kwargs,
    )


class LoginForm(forms.Form):
    username = username_field()
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = CodeField()


class ReauthForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = CodeField()


class NewPasswordForm(forms.Form):
    """Two password fields that must agree and pass the password rules, plus a TOTP code."""

    password1 = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        help_text=_("At least 12 characters. A few unrelated words work well."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    code = CodeField()

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def password_owner(self, data: dict):
        return self.user

    def clean(self) -> dict:
        data = super().clean()
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("The two passwords differ."))
        elif one:
            try:
                services.check_password(one, self.password_owner(data))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class NewAccountForm(NewPasswordForm):
    username = username_field(
        validators=[services.check_username],
        help_text=_("A name others in the process will see. It need not be your real name."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    field_order = ["username", "password1", "password2", "language", "code"]

    def password_owner(self, data: dict):
        from .models import User

        return User(username=data.get("username", ""))


class InviteAccountForm(forms.Form):
    site_admin = forms.BooleanField(
        label=_("This person will also run the server (site admin)"), required=False
    )


class ResetForm(NewPasswordForm):
    field_order = ["password1", "password2", "code"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = _("New password")


class ChangePasswordForm(ResetForm):
    """The current password and a code are checked by the service, where failures count."""

    current_password = forms.CharField(
        label=_("Current password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "code", "password1", "password2"]


class RecoverForm(ResetForm):
    username = username_field()
    words = forms.CharField(
        label=_("Your 24 recovery words"),
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 4, "autocapitalize": "none", "spellcheck": "false"}),
    )
    field_order = ["username", "words", "code", "password1", "password2"]


class AccountSettingsForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address for notices (optional)"),
        required=False,
        help_text=_(
            "Notices say only that something waits for you, never what. The address is stored "
            "unencrypted so the server can send them: use one that does not give you away."
        ),
    )
    time_zone = forms.ChoiceField(label=_("Your time zone"), required=False, widget=LongSelect)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        server = _("(the server's: %(zone)s)") % {"zone": settings.TIME_ZONE}
        self.fields["time_zone"].choices = time_zone_choices(server)
