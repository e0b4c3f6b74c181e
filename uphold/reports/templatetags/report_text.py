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


LISTED_LINE = re.compile(r"^\s*[-*]\s+")
# At the start of a line of its own: "===" under a line makes it a heading, "~~~" opens code.
LINE_START = re.compile(r"^([=~])")


@register.filter
def words(value) -> str:
    """The group's own words, as paragraphs: a blank line starts a new one, a line that begins
    with "- " is a list item. Everything else in it is escaped like `md`, so the group's words
    cannot add a heading, a link or an image to the report."""
    lines = []
    for line in str(value).splitlines():
        if LISTED_LINE.match(line):
            lines.append("- " + md(LISTED_LINE.sub("", line)))
        else:
            lines.append(LINE_START.sub(r"\\\1", md(line)))
    return "\n".join(lines).strip()
