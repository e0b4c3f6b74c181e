"""A report made from the record: one Markdown template per kind (templates/reports/KIND.md);
the web page and the PDF are that Markdown turned into HTML (markdown-it, raw HTML off, then
nh3), and the PDF is WeasyPrint's print of it with nothing fetched from anywhere.

Every number comes from `uphold.figures.figures`, so a report says what the dashboard and
`uphold stats` say. The texts are opened with the member's keys, as on the pages.
"""

import re
from dataclasses import dataclass
from datetime import date

import nh3
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from uphold.crypto.keyring import opened
from uphold.demands.models import Demand, Progress
from uphold.figures import Figures, figures, review_scores
from uphold.lib.choices import label  # a code not among the choices reads as itself
from uphold.people.models import Person, Relation, Stance
from uphold.processes.models import Process, ProcessGroup
from uphold.processes.queries import DEFAULT_TERMS, terms_of
from uphold.record.models import Entry, EntryKind, Meeting

from .models import DRAFT_PARTS, ReleasedReport, ReportDraft, ReportExport, ReportKind

# A retrospective lists the process's meetings and the changes of its demands; a report-back
# the group's decisions of its period. Each list is cut here, and says so when it is.
LISTED = 200


@dataclass(frozen=True)
class Listed:
    rows: list
    more: int  # rows left out


def _listed(rows: list) -> Listed:
    return Listed(rows[:LISTED], max(len(rows) - LISTED, 0))


def since_last(process: Process, kind: str) -> date | None:
    """When the last one of this kind went out: a report-back covers what happened since. The
    last release counts, or, before any release, the last export."""
    released = ReleasedReport.objects.filter(process=process, kind=kind).order_by("-released_at")
    exported = ReportExport.objects.filter(process=process, kind=kind).order_by("-exported_at")
    last = (
        released.values_list("released_at", flat=True).first()
        or exported.values_list("exported_at", flat=True).first()
    )
    return timezone.localdate(last) if last else None


def context(process: Process, kind: str, today: date, since: date | None = None) -> dict:
    """What a report of `kind` says, on `today`; a report-back covers the days from `since`."""
    found: Figures = figures(process, today)
    terms = terms_of(process)
    locked = _("(locked: you do not have the key)")
    demands = [
        {
            "number": d.number,
            "status": d.get_status_display(),
            "wording": opened(lambda d=d: d.wording, locked),
        }
        for d in Demand.objects.filter(process=process).order_by("number")
    ]
    ctx = {
        "process": process,
        "kind": kind,
        "kind_label": ReportKind(kind).label,
        "today": today,
        "since": since,
        "terms": terms,
        "f": found,
        "demands": demands,
        "steps_x": {s: found.steps_of("x", s) for s in ("done", "missed", "open")},
        "steps_group": {s: found.steps_of("group", s) for s in ("done", "missed", "open")},
        "words": _words(process, kind, locked),
    }
    if kind == ReportKind.SURVIVOR_UPDATE:
        from uphold.survivor.services import preferences_of

        ctx["content_note"] = preferences_of(process).content_note
    if kind == ReportKind.REPORT_BACK:
        decisions = Entry.objects.filter(process=process, kind=EntryKind.DECISION)
        if since:
            decisions = decisions.filter(occurred_on__gte=since)
        rows = list(
            decisions.order_by("occurred_on", "pk").only("pk", "process", "occurred_on", "summary")[
                : LISTED + 1
            ]
        )
        ctx["decisions"] = _listed(
            [{"on": e.occurred_on, "summary": opened(lambda e=e: e.summary, locked)} for e in rows]
        )
        ctx["title"] = opened(lambda: process.title, "")
    elif kind == ReportKind.RETROSPECTIVE:
        ctx.update(_retrospective(process))
        # Pseudonymised: the words the process chose may be names; a retrospective says
        # "survivor" and "X".
        ctx["terms"] = {k: str(v) for k, v in DEFAULT_TERMS.items()}
        # The texts it quotes (the demands, the group's words) lose every name the process
        # holds, and every name the group listed to leave out.
        leave_out = names_to_leave_out(process, ctx["words"].get("left_out", ""))
        for d in ctx["demands"]:
            d["wording"] = left_out(d["wording"], leave_out)
        ctx["words"] = {part: left_out(text, leave_out) for part, text in ctx["words"].items()}
    return ctx


# Shorter than this, a "name" would cut into ordinary words.
SHORTEST_NAME = 2


def names_to_leave_out(process: Process, listed: str = "") -> list[str]:
    """Every name the process holds in its sealed columns: the people around him, the words the
    process chose for the survivor and for him, where the groups are, the process's title; and
    the names the group listed, one per line. Longest first, so a full name goes before its
    parts. Usernames are not among them: they are pseudonyms, often plain words ("contact"),
    and a member whose username is a name lists it."""
    names = {line.strip() for line in listed.splitlines()}
    for person in Person.objects.filter(process=process).only("pk", "process", "name"):
        names.add(opened(lambda p=person: p.name, "") or "")
    for group in ProcessGroup.objects.filter(process=process).only("pk", "process", "place"):
        names.add(opened(lambda g=group: g.place, "") or "")
    chosen = terms_of(process)
    names |= {chosen[k] for k in chosen if chosen[k] != str(DEFAULT_TERMS[k])}
    names.add(opened(lambda: process.title, "") or "")
    names = {" ".join(n.split()) for n in names}
    return sorted((n for n in names if len(n) >= SHORTEST_NAME), key=lambda n: (-len(n), n))


def left_out(text: str, names: list[str]) -> str:
    """`text` with each of `names` (as a whole word, in any case) replaced by a mark."""
    if not names or not text:
        return text
    spelled = "|".join(r"\s+".join(map(re.escape, n.split())) for n in names)
    pattern = re.compile(rf"(?<!\w)(?:{spelled})(?!\w)", re.IGNORECASE)
    return pattern.sub(_("[name left out]"), text)


def _words(process: Process, kind: str, locked: str) -> dict[str, str]:
    """The group's own words for each part of this kind ("" where none are written yet)."""
    drafts = {d.part: d for d in ReportDraft.objects.filter(process=process, kind=kind)}
    return {
        part: opened(lambda d=drafts[part]: d.text, locked) if part in drafts else ""
        for part, _label in DRAFT_PARTS[kind]
    }


def _retrospective(process: Process) -> dict:
    """Pseudonymised: the people and circles around him by what they are to him, never by name;
    the groups by their kind, never by their place."""
    meetings = list(
        Meeting.objects.filter(process=process)
        .exclude(outcome="")
        .order_by("planned_at")
        .values_list("planned_at", "outcome")[: LISTED + 1]
    )
    changes = list(
        Progress.objects.filter(process=process)
        .select_related("demand")
        .order_by("recorded_at", "pk")[: LISTED + 1]
    )
    around = {}
    for person in Person.objects.filter(process=process).only(
        "pk", "process", "kind", "relation", "stance"
    ):
        row = around.setdefault(label(Relation, person.relation), dict.fromkeys(Stance.values, 0))
        row[person.stance or Stance.UNKNOWN] = row.get(person.stance or Stance.UNKNOWN, 0) + 1
    return {
        "began_on": process.began_on,
        "groups": [g.get_kind_display() for g in ProcessGroup.objects.filter(process=process)],
        "meetings": _listed(
            [
                {"on": at.date(), "outcome": Meeting(outcome=o).get_outcome_display()}
                for at, o in meetings
            ]
        ),
        "changes": _listed(
            [
                {
                    "on": c.recorded_at.date(),
                    "number": c.demand.number,
                    "before": c.get_status_before_display(),
                    "after": c.get_status_after_display(),
                }
                for c in changes
                if c.status_before != c.status_after
            ]
        ),
        "around": [
            {
                "relation": relation,
                "stances": [(label(Stance, s), n) for s, n in counts.items() if n],
            }
            for relation, counts in sorted(around.items())
        ],
        "scores": review_scores(process),
    }


def markdown(ctx: dict) -> str:
    return render_to_string(f"reports/{ctx['kind']}.md", ctx).strip() + "\n"


_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")


# No images: a report shows text only, so a downloaded report never calls out when opened.
_TAGS = set(nh3.ALLOWED_TAGS) - {"img"}


def html_fragment(text: str) -> str:
    """The Markdown as HTML: raw HTML in it is shown as text, links only of safe kinds, and no
    image at all."""
    return nh3.clean(_PARSER.render(text), tags=_TAGS)


def html_document(ctx: dict, text: str) -> str:
    """A page that stands alone (the download and the PDF's source), its style inside it."""
    return render_to_string("reports/document.html", {**ctx, "body": html_fragment(text)})


def pdf(document: str) -> bytes:
    """The PDF; whatever the document points at (an image, a style sheet) is never fetched."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetchingError

    class NothingFetched(URLFetcher):
        def fetch(self, url, headers=None):
            raise URLFetchingError(f"a report fetches nothing: {url}")

    fetcher = NothingFetched(allowed_protocols=[], fail_on_errors=False)
    return HTML(string=document, url_fetcher=fetcher).write_pdf()
