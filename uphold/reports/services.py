"""Exporting a report: made from the record for a member who reads it, and recorded (a
ReportExport row and its audit event) in the same transaction as it is made."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.processes.models import Process
from uphold.processes.permissions import authorize

from . import render
from .models import ReportExport, ReportFormat, ReportKind

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
