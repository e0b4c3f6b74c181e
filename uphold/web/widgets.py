"""Form widgets written in Python, not through Django's templates.

Django renders a select through a template for the list and two for every option, and a
checkbox through four; a page with a few lists spent most of its time there. This renderer
writes the same markup (tests/test_widgets.py compares it with Django's own) for the widgets
Uphold uses, from the context Django's widgets make, and leaves any other template to Django.
"""

from collections.abc import Callable

from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


def _input(widget: dict) -> SafeString:
    value = widget["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        format_html(' value="{}"', value) if value is not None else "",
        flatatt(widget["attrs"]),
    )


def _textarea(widget: dict) -> SafeString:
    # The newline after the tag is Django's too: a browser drops it, keeping the value's own.
    return format_html(
        '<textarea name="{}"{}>\n{}</textarea>',
        widget["name"],
        flatatt(widget["attrs"]),
        widget["value"] or "",
    )


def _joined(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _select(widget: dict) -> SafeString:
    groups = []
    for name, options, _index in widget["optgroups"]:
        written = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((option["value"], flatatt(option["attrs"]), option["label"]) for option in options),
        )
        if name:
            written = format_html('<optgroup label="{}">{}</optgroup>', name, written)
        groups.append(written)
    return format_html(
        '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), _joined(groups)
    )


def _option(option: dict) -> SafeString:
    field = _input(option)
    if not option.get("wrap_label"):
        return field
    option_id = option["attrs"].get("id")
    return format_html(
        "<label{}>{} {}</label>",
        format_html(' for="{}"', option_id) if option_id else "",
        field,
        option["label"],
    )


def _choices(widget: dict) -> SafeString:
    """Checkboxes or radio buttons: each in a div, in a div with the list's id and class."""
    groups = []
    for name, options, _index in widget["optgroups"]:
        written = format_html_join("", "<div>{}</div>", ((_option(o),) for o in options))
        if name:
            written = format_html("<div><label>{}</label>{}</div>", name, written)
        groups.append(written)
    attrs = widget["attrs"]
    return format_html(
        "<div{}{}>{}</div>",
        format_html(' id="{}"', attrs["id"]) if attrs.get("id") else "",
        format_html(' class="{}"', attrs["class"]) if attrs.get("class") else "",
        _joined(groups),
    )


INPUTS = ("input", "text", "email", "number", "password", "hidden", "date", "datetime", "time")
INPUTS += ("url", "search", "tel", "color", "file", "checkbox")
WRITTEN: dict[str, Callable[[dict], SafeString]] = {
    **{f"django/forms/widgets/{name}.html": _input for name in INPUTS},
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/checkbox_select.html": _choices,
    "django/forms/widgets/radio.html": _choices,
}


class Renderer(DjangoTemplates):
    """FORM_RENDERER: the widgets above in Python, every other template as Django does it."""

    def render(self, template_name: str, context: dict, request=None) -> str:
        write = WRITTEN.get(template_name)
        if write is None:
            return super().render(template_name, context, request)
        return write(context["widget"])
