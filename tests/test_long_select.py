"""The time zone lists are written in Python, not a template per option: the same markup."""

from html.parser import HTMLParser

import pytest
from django import forms

from uphold.accounts.forms import LongSelect, time_zone_choices


class Parts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list = []

    def handle_starttag(self, tag, attrs):
        self.parts.append((tag, sorted(attrs, key=lambda a: a[0])))

    def handle_endtag(self, tag):
        self.parts.append(("/", tag))

    def handle_data(self, data):
        if data.strip():
            self.parts.append(("text", data.strip()))


def parts(html: str) -> list:
    parser = Parts()
    parser.feed(html)
    return parser.parts


@pytest.mark.parametrize("value", ["Europe/London", "", None, "<b>x</b>", ["Asia/Tokyo"]])
@pytest.mark.parametrize("attrs", [{}, {"id": "id_z", "required": True, "aria-invalid": "true"}])
def test_a_long_select_reads_as_djangos_own(value, attrs):
    choices = time_zone_choices("(none) & <more>")
    ours = LongSelect(choices=choices).render("group-time_zone", value, attrs)
    django = forms.Select(choices=choices).render("group-time_zone", value, attrs)
    assert parts(ours) == parts(django)
    assert ours.count(" selected") == (1 if value != "<b>x</b>" else 0)
