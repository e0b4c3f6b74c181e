"""Exporting a report: made from the record for a member who reads it, and recorded (a
ReportExport row and its audit event) in the same transaction as it is made."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.processes.models import Process
from uphold.processes.permissions import authorize
from uphold.processes.scopes import scopes_of

from . import render
from .models import (
    DRAFT_PARTS,
    RELEASE_SCOPES,
    ReleasedReport,
    ReportDraft,
    ReportExport,
    ReportFormat,
    ReportKind,
)
from .tasks import notify_survivor_of_an_update

MAX_DRAFT = 50_000  # characters of one part of the group's words


class Conflict(Exception):
    """Someone saved the group's words since the actor loaded them; nothing was written."""


CONTENT_TYPES = {
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.MD: "text/markdown; charset=utf-8",
}


@dataclass(frozen=True)
class Exported:
    filename: str
    content: bytes
    content_type: str


def check(kind: str, fmt: str) -> None:
    """A kind and a format from the lists, or a refusal that names both lists."""
    errors = {}
    if kind not in ReportKind.values:
        errors["kind"] = [
            _("Choose a kind of report: %(kinds)s.") % {"kinds": ", ".join(ReportKind.values)}
        ]
    if fmt not in ReportFormat.values:
        errors["format"] = [
            _("Choose a format: %(formats)s.") % {"formats": ", ".join(ReportFormat.values)}
        ]
    if errors:
        raise ValidationError(errors)


def preview(actor, process: Process | str, kind: str, today: date) -> tuple[dict, str]:
    """The report's content and its HTML, for the page that shows it before an export."""
    membership = authorize(actor, "reports.export", process)
    check(kind, ReportFormat.HTML)
    since = render.since_last(membership.process, kind) if kind == ReportKind.REPORT_BACK else None
    ctx = render.context(membership.process, kind, today, since)
    return ctx, render.html_fragment(render.markdown(ctx))


def export(
    actor,
    process: Process | str,
    kind: str,
    fmt: str,
    today: date,
    progress: Callable[[str], None] = lambda line: None,
) -> Exported:
    membership = authorize(actor, "reports.export", process)
    check(kind, fmt)
    process = membership.process
    with transaction.atomic():
        since = render.since_last(process, kind) if kind == ReportKind.REPORT_BACK else None
        progress(_("Reading the record …"))
        ctx = render.context(process, kind, today, since)
        text = render.markdown(ctx)
        if fmt == ReportFormat.MD:
            content = text.encode()
        else:
            document = render.html_document(ctx, text)
            if fmt == ReportFormat.HTML:
                content = document.encode()
            else:
                progress(_("Making the PDF …"))
                content = render.pdf(document)
        row = ReportExport.objects.create(
            process=process, kind=kind, format=fmt, since=since, exported_by=actor
        )
        audit.record(actor, process, Kind.EXPORT, row)
    progress(_("Done."))
    return Exported(f"{process.code}-{kind}-{today.isoformat()}.{fmt}", content, CONTENT_TYPES[fmt])


RELEASE_ACTIONS = {
    ReportKind.REPORT_BACK: "reports.release_community",
    ReportKind.SURVIVOR_UPDATE: "reports.release_survivor",
}


def withheld_for(process: Process, kind: str) -> list:
    """What the survivor's side wants kept from those a release of `kind` reaches (and from
    named people, whom any reader might pass it on to)."""
    from uphold.processes.models import Role
    from uphold.survivor.services import withheld_from

    if kind != ReportKind.REPORT_BACK:
        return []  # an update goes to the survivor's side itself
    return withheld_from(process, Role.COMMUNITY)


def release(
    actor, process: Process | str, kind: str, today: date, *, checked: bool = False
) -> ReleasedReport:
    """The report as it reads now, sealed for those it is for: a report-back for the community
    group (released by the contact group), an update for the survivor's side (released by the
    support group). A retrospective is not released: it is exported. Where the survivor's side
    wants something kept from those it reaches, the member says they `checked` the report for
    it; otherwise nothing is released."""
    if kind not in RELEASE_ACTIONS:
        raise ValidationError(
            {"kind": [_("Only a report-back or an update for the survivor's side is released.")]}
        )
    membership = authorize(actor, RELEASE_ACTIONS[kind], process)
    process = membership.process
    if withheld_for(process, kind) and not checked:
        raise ValidationError(
            {
                "checked": [
                    _(
                        "The survivor's side wants some things kept from those this report "
                        "reaches. Read the report for them, then tick the box to say you did."
                    )
                ]
            }
        )
    with transaction.atomic():
        since = render.since_last(process, kind) if kind == ReportKind.REPORT_BACK else None
        text = render.markdown(render.context(process, kind, today, since))
        copy = ReleasedReport.objects.create(
            process=process, kind=kind, scope=RELEASE_SCOPES[kind], since=since, released_by=actor
        )
        copy.text = text
        copy.save()
        audit.record(actor, process, Kind.RELEASE, copy)
        if kind == ReportKind.SURVIVOR_UPDATE:
            code = process.code
            transaction.on_commit(lambda: notify_survivor_of_an_update.enqueue(code))
    return copy


def released_for(membership, limit: int = 10) -> list[ReleasedReport]:
    """The newest releases of the scopes the member's role reads (none for X)."""
    held = scopes_of(membership) & set(RELEASE_SCOPES.values())
    return list(
        ReleasedReport.objects.filter(process=membership.process, scope__in=held).select_related(
            "released_by"
        )[:limit]
    )


def drafts_of(process: Process, kind: str) -> dict[str, ReportDraft]:
    """The saved parts of the group's words in a kind of report, by part."""
    return {d.part: d for d in ReportDraft.objects.filter(process=process, kind=kind)}


def save_drafts(
    actor, process: Process | str, kind: str, texts: dict[str, str], revisions: dict[str, int]
) -> list[ReportDraft]:
    """The group's words for the parts of a kind of report, all or none: `revisions` are the
    revisions the member loaded (0: the part was not written yet). A part changed by someone
    else since is a Conflict, and nothing is saved. A part left as it was is not written."""
    membership = authorize(actor, "reports.draft", process)
    if kind not in DRAFT_PARTS:
        raise ValidationError(
            {"kind": [_("Choose a kind of report: %(kinds)s.") % {"kinds": ", ".join(DRAFT_PARTS)}]}
        )
    parts = dict(DRAFT_PARTS[kind])
    errors: dict[str, list[str]] = {}
    unknown = set(texts) - set(parts)
    if unknown:
        errors["part"] = [_("This kind of report has no part called %(part)s.") % {
            "part": ", ".join(sorted(unknown))}]  # fmt: skip
    cleaned = {}
    for part, text in texts.items():
        text = (text or "").replace("\r\n", "\n").strip()
        if len(text) > MAX_DRAFT:
            errors[part] = [
                _("This is %(count)s characters; keep it under %(n)s.")
                % {"count": f"{len(text):,}", "n": f"{MAX_DRAFT:,}"}
            ]
        cleaned[part] = text
    if errors:
        raise ValidationError(errors)
    process = membership.process
    saved = []
    try:
        with transaction.atomic():
            held = {
                d.part: d
                for d in ReportDraft.objects.select_for_update().filter(process=process, kind=kind)
            }
            for part, text in cleaned.items():
                draft = held.get(part)
                if (draft.text if draft else "") == text:
                    continue  # as it is (a form sent twice changes nothing)
                if (draft.revision if draft else 0) != revisions.get(part, 0):
                    raise Conflict
                created = draft is None
                if created:  # a sealed field is set on a saved row (its id is in the seal)
                    draft = ReportDraft.objects.create(
                        process=process, kind=kind, part=part, revision=0
                    )
                draft.text, draft.revision = text, draft.revision + 1
                draft.changed_by, draft.changed_at = actor, timezone.now()
                draft.save()
                audit.record(actor, process, Kind.CREATE if created else Kind.CHANGE, draft)
                saved.append(draft)
    except IntegrityError:  # a first save of the same part at the same moment
        raise Conflict from None
    return saved
