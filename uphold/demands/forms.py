"""Forms for the letter and the demands. Lengths and rules are checked by the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from uphold.accounts.forms import DateInput

from .models import AnswerKind, Status


class ShowsHiddenErrors(forms.Form):
    """A hidden field's error (a form changed by hand) is said at the top, not lost."""

    def clean(self) -> dict:
        data = super().clean()
        if any(self.fields[name].widget.is_hidden for name in self.errors):
            self.add_error(None, _("This page is out of date. Open it again and start over."))
        return data


class LetterForm(ShowsHiddenErrors):
    text = forms.CharField(label=_("Text of the letter"), widget=forms.Textarea(attrs={"rows": 14}))
    # The version the member started from (0: no letter yet); a save against an older one is
    # refused.
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class HandOverForm(ShowsHiddenErrors):
    handed_over_on = forms.DateField(label=_("Handed over on"), widget=DateInput(format="%Y-%m-%d"))
    handed_to = forms.CharField(
        label=_("Handed over to"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("To whom, and how: e.g. given to X by the support group, sent to his group."),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


CRITERIA_HELP = _(
    "One per line, each concrete and checkable: e.g. every political group he joins is told, "
    "including members outside its leadership, before he takes part."
)


class DemandForm(forms.Form):
    wording = forms.CharField(label=_("What is demanded"), widget=forms.Textarea(attrs={"rows": 3}))
    reasons = forms.CharField(
        label=_("Why (the survivor's side's reasons)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    criteria = forms.CharField(
        label=_("Criteria: what counts as met"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=CRITERIA_HELP,
    )


class ProposalForm(DemandForm):
    why = forms.CharField(
        label=_("Why should it change?"), widget=forms.Textarea(attrs={"rows": 3})
    )
    softer = forms.BooleanField(
        label=_("This asks less of X than the current demand (softer or weaker)"), required=False
    )
    revision = forms.IntegerField(widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    answer = forms.CharField(
        label=_("Your reasons (optional, shown to the group)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProgressForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"))
    note = forms.CharField(
        label=_("What happened, or the evidence"), widget=forms.Textarea(attrs={"rows": 4})
    )
    status_seen = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, statuses: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, Status(s).label) for s in statuses]


class AnswerForm(forms.Form):
    kind = forms.ChoiceField(choices=AnswerKind.choices)
    said_on = forms.DateField(label=_("When"), widget=DateInput(format="%Y-%m-%d"))
    note = forms.CharField(
        label=_("What was said, in their words or as a summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    entry_id = forms.TypedChoiceField(
        label=_("Where it is in the log"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, respondent: str, entries: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].label = _("What %(name)s said") % {"name": respondent}
        self.fields["entry_id"].choices = [("", _("not in the log"))] + [
            (str(e.pk), f"{e.occurred_on:%Y-%m-%d}: {e.summary or e.get_kind_display()}"[:120])
            for e in entries
        ]
