"""Uphold's form renderer writes the widgets in Python (uphold/web/widgets.py): each must read
exactly as Django's own templates write it, for every kind of value, choice and attribute."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from uphold.web.widgets import WRITTEN, Renderer

from .test_long_select import parts

CHOICES = [("a", "Apple & <pear>"), ("b", 'say "b"'), ("", "(none)"), (3, "three")]
GROUPED = [("Fruit", [("a", "Apple"), ("b", "Banana")]), ("c", "Cherry")]
ATTRS = [{}, {"id": "id_f", "required": True, "aria-describedby": "f_help", "class": "x"}]

WIDGETS = [
    (forms.TextInput(), ["", None, "word", '<script>"x"</script>', 12]),
    (forms.EmailInput(), ["a@example.org", None]),
    (forms.NumberInput(attrs={"min": 0, "max": 9}), [3, None]),
    (forms.PasswordInput(render_value=True), ["secret", None]),
    (forms.HiddenInput(), ["x&y", None]),
    (forms.DateInput(attrs={"type": "date"}), ["2020-01-31", None]),
    (forms.URLInput(), ["https://example.org/?a=1&b=2"]),
    (forms.CheckboxInput(), [True, False, None, "on"]),
    (forms.Textarea(), ["", None, "line\nnext & <b>", "\nleading newline"]),
    (forms.Select(choices=CHOICES), ["a", "", None, 3, "zzz"]),
    (forms.Select(choices=GROUPED), ["b", "c"]),
    (forms.SelectMultiple(choices=CHOICES), [["a", "b"], [], None]),
    (forms.NullBooleanSelect(), [True, False, None]),
    (forms.CheckboxSelectMultiple(choices=CHOICES), [["a", 3], [], None]),
    (forms.CheckboxSelectMultiple(choices=GROUPED), [["a"]]),
    (forms.RadioSelect(choices=CHOICES), ["b", None]),
]


@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize(
    ("widget", "value"),
    [(w, v) for w, values in WIDGETS for v in values],
    ids=lambda p: type(p).__name__ if isinstance(p, forms.Widget) else repr(p),
)
def test_a_widget_reads_as_djangos_own(widget, value, attrs):
    ours = widget.render("field", value, attrs=dict(attrs), renderer=Renderer())
    django = widget.render("field", value, attrs=dict(attrs), renderer=DjangoTemplates())
    assert parts(ours) == parts(django)
    assert widget.template_name in WRITTEN  # written by Uphold, not handed back to Django


def test_every_form_renders_through_uphold_s_renderer():
    class Form(forms.Form):
        kind = forms.ChoiceField(choices=CHOICES)

    assert isinstance(Form().renderer, Renderer)
    assert "<option" in str(Form()["kind"])


def test_any_other_widget_is_left_to_django():
    widget = forms.SplitDateTimeWidget()
    value = ["2020-01-31", "10:00"]
    ours = widget.render("when", value, renderer=Renderer())
    assert parts(ours) == parts(widget.render("when", value, renderer=DjangoTemplates()))
