"""Forms for reflections and reviews. Lengths and rules are checked by the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from uphold.accounts.forms import DateInput

from .models import QUESTIONS, REVERSED, Score, Source
from .services import Answer

CANNOT_SAY = "cannot_say"
SCORES = [(str(value), label) for value, label in Score.choices] + [(CANNOT_SAY, _("cannot say"))]


class ReflectionForm(forms.Form):
    written_on = forms.DateField(
        label=_("Its date"),
        widget=DateInput(format="%Y-%m-%d"),
        help_text=_("The day he wrote or sent it."),
    )
    source = forms.ChoiceField(
        label=_("How it came"), choices=Source.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("His text, pasted in"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    file = forms.FileField(
        label=_("Or a text file (UTF-8, at most 1 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,text/plain"}),
    )
    entry = forms.IntegerField(
        label=_("Or the number of the log entry that holds it"),
        required=False,
        min_value=1,
        help_text=_("The number at the end of the entry's address, for example 12 in /log/12/."),
    )


class ReviewForm(forms.Form):
    """For each of the five questions: a score, the passages quoted as evidence, a note."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, question in QUESTIONS:
            self.fields[f"{name}_score"] = forms.ChoiceField(
                label=question,
                choices=SCORES,
                widget=forms.RadioSelect,
                help_text=_("Scored the other way round: “clearly” here is a bad sign.")
                if name in REVERSED
                else "",
            )
            self.fields[f"{name}_quotes"] = forms.CharField(
                label=_("Passages from his text that show it"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"{name}_note"] = forms.CharField(
                label=_("Your note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    @property
    def questions(self) -> list[tuple[str, list]]:
        """(question, its three fields), for the template's fieldsets."""
        return [
            (question, [self[f"{name}_{part}"] for part in ("score", "quotes", "note")])
            for name, question in QUESTIONS
        ]

    def answers(self) -> dict[str, Answer]:
        data = self.cleaned_data
        return {
            name: Answer(
                None if data[f"{name}_score"] == CANNOT_SAY else int(data[f"{name}_score"]),
                data[f"{name}_quotes"],
                data[f"{name}_note"],
            )
            for name, _question in QUESTIONS
        }


def initial_of(answers: dict[str, Answer]) -> dict[str, str]:
    initial = {}
    for name, answer in answers.items():
        initial[f"{name}_score"] = CANNOT_SAY if answer.score is None else str(answer.score)
        initial[f"{name}_quotes"], initial[f"{name}_note"] = answer.quotes, answer.note
    return initial


class ReviewEditForm(ReviewForm):
    revision = forms.IntegerField(widget=forms.HiddenInput)


class ReleaseForm(forms.Form):
    with_quotes = forms.BooleanField(
        label=_("Include the quoted passages of his words"),
        required=False,
        help_text=_(
            "Off unless the survivor's side asked for them: the survivor should not be met "
            "with his own words unless they want to read them. The scores and your notes are "
            "released either way; your name is not."
        ),
    )
