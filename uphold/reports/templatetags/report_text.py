"""`{{ value|md }}` in a report's Markdown template: a text shown as written, on one line.
Whatever Markdown it holds (a heading, a link, a list) is escaped, so no text in the record, and
nothing written into the database by hand, changes the report's shape."""

import re

from django import template

register = template.Library()

# What works anywhere in a line: emphasis, code, links and images, autolinks, table cells,
# headings, the escape itself; and, at the start of a list item, another list or a quote.
SPECIAL = re.compile(r"([\\`*_\[\]!|<>#])")
BULLET = re.compile(r"^([-+])")
NUMBERED = re.compile(r"^(\d+)([.)])")


@register.filter
def md(value) -> str:
    text = " ".join(str(value).split())
    text = SPECIAL.sub(r"\\\1", text)
    return NUMBERED.sub(r"\1\\\2", BULLET.sub(r"\\\1", text))
