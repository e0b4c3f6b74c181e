from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SubmissionKind
from .services import MAX_TEXT


class SendForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What you are sending"),
        choices=SubmissionKind.choices,
        widget=forms.RadioSelect,
        error_messages=dict.fromkeys(
            ("required", "invalid_choice"),
            _("Choose what you are sending: a reflection or an update."),
        ),
    )
    # No max_length here: the service refuses a text that is too long, and says by how much.
    text = forms.CharField(
        label=_("Your text"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": _("Write something before you send it.")},
        help_text=_(
            "Only the support and contact groups read it. You cannot read it back here once it "
            "is sent. Up to %(n)s characters."
        )
        % {"n": f"{MAX_TEXT:,}"},
    )
