"""The Mail page: the parties' addresses, uploading mail, each import's summary, its
confirmation and its undoing. For the contact group, who keep the record."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uphold.attachments.uploads import EncryptingUploadHandler
from uphold.attachments.views import receive
from uphold.crypto import keyring
from uphold.crypto.keyring import opened
from uphold.people.models import Person
from uphold.processes.models import Membership
from uphold.web import once
from uphold.web.access import process_view
from uphold.web.pages import add_errors
from uphold.web.paging import BadPage, pager, refused
from uphold.web.process_page import process_context

from . import imap, services
from .forms import AddressForm, ChoiceForm, FetchForm, ImapForm
from .models import ImportState, ItemStatus, PreviewItem

LOCKED = "…"
logger = logging.getLogger("uphold.mailin")
PER_PAGE = 50


class MailUploadHandler(EncryptingUploadHandler):
    """Seals each uploaded mail file as it arrives, as documents are; several files at once.
    The files stay, unfinished, until the import is confirmed or dropped (`keep`)."""

    def __init__(self, request, process) -> None:
        super().__init__(request, process, "record", "mail.import")
        self.writers = []

    def new_file(self, field_name, file_name, content_type, *args, **kwargs) -> None:
        FileUploadHandler.new_file(self, field_name, file_name, content_type, *args, **kwargs)
        if len(self.writers) >= services.MAX_FILES:
            raise StopUpload(connection_reset=False)
        self.writer = services.writer_for_file(self.request.user, self.process, file_name or "mail")
        self.writers.append(self.writer)
        raise StopFutureHandlers

    def keep(self, kept) -> None:
        """The summary holds `kept` now; anything else that arrived (under another field
        name) is removed at once."""
        ids = {a.pk for a in kept}
        self.writers = [w for w in self.writers if w.attachment.pk not in ids]
        self.discard()

    def discard(self) -> None:
        for writer in self.writers:
            self.writer = writer
            super().discard()
        self.writers, self.writer = [], None


def _mail_page(request, membership: Membership, status=200, **forms) -> HttpResponse:
    book = services.addresses_of(request.user, membership.process)
    rows = [
        {
            "address": a,
            "text": opened(lambda a=a: a.address, LOCKED),
            "whose": _whose(a),
        }
        for a in book.addresses
    ]
    accounts = [
        {
            "account": a,
            "name": opened(lambda a=a: f"{a.username} · {a.host}:{a.port}", LOCKED),
            "form": forms.get("fetch_forms", {}).get(a.pk) or FetchForm(auto_id=f"fetch-{a.pk}-%s"),
        }
        for a in imap.accounts_of(request.user, membership.process)
    ]
    context = process_context(
        membership,
        "mail",
        accounts=accounts,
        imap_form=forms.get("imap_form") or ImapForm(auto_id="imap-%s"),
        fetch_error=forms.get("fetch_error"),
        addresses=rows,
        address_form=forms.get("address_form")
        or AddressForm(people=book.people, members=book.members),
        upload_error=forms.get("upload_error"),
        imports=[_import_row(b) for b in services.imports_of(request.user, membership.process)],
        limit_mb=services.max_file_bytes() // (1024 * 1024),
    )
    return render(request, "mailin/mail.html", context, status=status)


def _whose(address) -> str:
    if address.person_id:
        return f"{address.get_party_display()}: {opened(lambda: address.person.name, LOCKED)}"
    if address.member_id:
        return f"{address.get_party_display()}: {address.member.username}"
    return address.get_party_display()


def _import_row(batch) -> dict:
    return {"batch": batch, "undoable": services.undoable(batch)}


@csrf_exempt
@process_view("mail.view")
@require_http_methods(["GET", "POST"])
def mail_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    if request.method != "POST":
        return _mail_page(request, membership)
    back = reverse("mail", args=[membership.process.code])
    handler = MailUploadHandler(request, membership.process)
    return receive(request, membership, "record", "mail.import", _upload, back, handler=handler)


@csrf_protect
def _upload(request, membership: Membership, handler: MailUploadHandler) -> HttpResponse:
    files = request.FILES.getlist("files")
    problem = None
    if handler.too_large:
        problem = _("A file is larger than %(mb)s MB. Nothing was stored.") % {
            "mb": services.max_file_bytes() // (1024 * 1024)
        }
    elif not files:
        problem = _("Choose one or more mail files (.eml or .mbox) first.")
    if problem is None:
        try:
            sources = [f.writer.seal_unfinished() for f in files]
            steps = services.preview_steps(request.user, membership.process, sources)
        except ValidationError as error:
            problem = " ".join(error.messages)
        else:
            handler.keep(sources)  # the summary holds these now, and removes them if it fails
            intro = _(
                "Uphold reads every message of the files. Keep this page open until it says it "
                "is done."
            )
            return _streamed(request, membership, _("Reading the mail"), intro, steps)
    return _mail_page(request, membership, status=400, upload_error=problem)


@process_view("mail.addresses")
@require_POST
@once.guarded
def address_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    book = services.addresses_of(request.user, membership.process)
    form = AddressForm(request.POST, people=book.people, members=book.members)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_address(
                request.user,
                membership.process,
                data["party"],
                data["address"],
                person_id=data["person"],
                member_id=data["member"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The address is kept, encrypted."))
            return once.redirect(request, "mail", code=membership.process.code)
    return _mail_page(request, membership, status=400, address_form=form)


@process_view("mail.addresses")
@require_POST
def address_remove_view(
    request: HttpRequest, membership: Membership, address_id: int
) -> HttpResponse:
    services.remove_address(request.user, membership.process, address_id)
    messages.success(request, _("The address was removed. Mail already in the log stays."))
    return redirect("mail", code=membership.process.code)


SHOWN = (ItemStatus.UNMATCHED, ItemStatus.NEW, ItemStatus.PRESENT, ItemStatus.UNREADABLE)
HEADINGS = {
    ItemStatus.UNMATCHED: gettext_lazy("Matching no party"),
    ItemStatus.NEW: gettext_lazy("New"),
    ItemStatus.PRESENT: gettext_lazy("Already in the log"),
    ItemStatus.UNREADABLE: gettext_lazy("Unreadable"),
}


@process_view("mail.view")
@require_GET
def import_view(request: HttpRequest, membership: Membership, batch_id: int) -> HttpResponse:
    batch = services.batch_of(request.user, membership.process, batch_id)
    return _import_page(request, membership, batch)


def _import_page(request, membership: Membership, batch, status=200, problem=None) -> HttpResponse:
    counts = batch.counts or {}
    show = request.GET.get("show", "")
    if show not in SHOWN:
        show = next((s for s in SHOWN if counts.get(s)), ItemStatus.NEW)
    items = PreviewItem.objects.filter(batch=batch, status=show)
    frame = process_context(membership, "mail", batch=batch)
    try:
        page = pager(request, items.count(), PER_PAGE)
    except BadPage as error:
        return refused(request, error, frame)
    people = list(Person.objects.filter(process=membership.process).order_by("pk"))
    preview = batch.state == ImportState.PREVIEW
    mine = preview and batch.by_id == request.user.pk
    rows = []
    for item in items.select_related("present")[page.offset : page.limit]:
        row = {"item": item, "label": opened(lambda i=item: i.label, LOCKED)}
        if mine and item.status == ItemStatus.UNMATCHED:
            chosen = opened(lambda i=item: i.choice, "") or "skip"
            row["form"] = ChoiceForm(
                initial={"number": item.number, "choice": chosen},
                people=people,
                auto_id=f"item-{item.number}-%s",
            )
        rows.append(row)
    chosen = PreviewItem.objects.filter(
        batch=batch, status=ItemStatus.UNMATCHED, choice__isnull=False
    ).count()
    sorts = [
        {
            "status": s,
            "label": HEADINGS[s],
            "count": counts.get(s, 0),
            "url": f"?show={s}",
            "current": s == show,
        }
        for s in SHOWN
    ]
    context = {
        **frame,
        "counts": counts,
        "sorts": sorts,
        "show": show,
        "rows": rows,
        "page": page,
        "preview": preview,
        "mine": mine,
        "to_import": counts.get(ItemStatus.NEW, 0) + chosen,
        "chosen": chosen,
        "listed_new": services.LISTED_NEW,
        "undoable": services.undoable(batch),
        "problem": problem,
    }
    return render(request, "mailin/import.html", context, status=status)


def _refused(request, membership: Membership, batch, error: ValidationError) -> HttpResponse:
    return _import_page(request, membership, batch, status=400, problem=" ".join(error.messages))


@process_view("mail.import")
@require_POST
def choose_view(request: HttpRequest, membership: Membership, batch_id: int) -> HttpResponse:
    batch = services.batch_of(request.user, membership.process, batch_id)
    people = list(Person.objects.filter(process=membership.process).order_by("pk"))
    form = ChoiceForm(request.POST, people=people)
    if not form.is_valid():
        problem = " ".join(e for errors in form.errors.values() for e in errors)
        return _import_page(request, membership, batch, status=400, problem=problem)
    try:
        services.choose(
            request.user,
            membership.process,
            batch.pk,
            form.cleaned_data["number"],
            form.cleaned_data["choice"],
        )
    except ValidationError as error:
        return _refused(request, membership, batch, error)
    messages.success(
        request, _("Your choice for message %(n)s is kept.") % {"n": form.cleaned_data["number"]}
    )
    target = reverse("mail-import", args=[membership.process.code, batch.pk])
    show = request.POST.get("show", "")
    return redirect(f"{target}?show={show}" if show in SHOWN else target)


@process_view("mail.import")
@require_POST
def confirm_view(request: HttpRequest, membership: Membership, batch_id: int) -> HttpResponse:
    batch = services.batch_of(request.user, membership.process, batch_id)
    try:
        done = services.confirm(request.user, membership.process, batch.pk)
    except services.Conflict:
        problem = _(
            "Since the summary was made, the messages no longer sort the same (an address "
            "was added or removed, or another import brought some of them). Nothing was "
            "imported. Drop this summary and upload the files again."
        )
        return _import_page(request, membership, batch, status=400, problem=problem)
    except ValidationError as error:
        return _refused(request, membership, batch, error)
    messages.success(
        request,
        _("%(n)s messages are in the log now. You can undo this import for a day.")
        % {"n": done.counts.get("imported", 0)},
    )
    return redirect("mail-import", code=membership.process.code, batch_id=done.pk)


@process_view("mail.import")
@require_POST
def drop_view(request: HttpRequest, membership: Membership, batch_id: int) -> HttpResponse:
    batch = services.batch_of(request.user, membership.process, batch_id)
    try:
        services.drop(request.user, membership.process, batch.pk)
    except ValidationError as error:
        return _refused(request, membership, batch, error)
    messages.success(request, _("The summary and its files are gone. Nothing was imported."))
    return redirect("mail", code=membership.process.code)


@process_view("mail.import")
@require_POST
def undo_view(request: HttpRequest, membership: Membership, batch_id: int) -> HttpResponse:
    batch = services.batch_of(request.user, membership.process, batch_id)
    try:
        count = services.undo(request.user, membership.process, batch.pk)
    except ValidationError as error:
        return _refused(request, membership, batch, error)
    messages.success(request, _("The import is undone: %(n)s entries left the log.") % {"n": count})
    return redirect("mail-import", code=membership.process.code, batch_id=batch.pk)


@process_view("mail.import")
@require_POST
@once.guarded
def imap_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = ImapForm(request.POST, auto_id="imap-%s")
    if form.is_valid():
        try:
            imap.add_account(request.user, membership.process, imap.Details(**form.cleaned_data))
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The mailbox is kept, encrypted. Fetch from it below."))
            return once.redirect(request, "mail", code=membership.process.code)
    return _mail_page(request, membership, status=400, imap_form=form)


@process_view("mail.import")
@require_POST
def imap_remove_view(request: HttpRequest, membership: Membership, account_id: int) -> HttpResponse:
    imap.remove_account(request.user, membership.process, account_id)
    messages.success(request, _("The mailbox was removed. Mail already in the log stays."))
    return redirect("mail", code=membership.process.code)


PLACE = "\x00progress\x00"


@process_view("mail.import")
@require_POST
def imap_fetch_view(request: HttpRequest, membership: Membership, account_id: int) -> HttpResponse:
    """Fetches while the member watches: each step is a line of the page as it happens, and
    the last one leads to the summary."""
    form = FetchForm(request.POST, auto_id=f"fetch-{account_id}-%s")
    job = None
    if form.is_valid():
        try:
            job = imap.prepare(request.user, membership.process, account_id, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
    if job is None:
        problem = " ".join(e for errors in form.errors.values() for e in errors)
        return _mail_page(
            request, membership, status=400, fetch_forms={account_id: form}, fetch_error=problem
        )
    intro = _(
        "From %(host)s, folder %(folder)s. The folder is only read: nothing on the mail server "
        "changes. Keep this page open until it says it is done."
    ) % {"host": job.account.host, "folder": job.folder}
    return _streamed(request, membership, _("Fetching mail"), intro, imap.run(job))


def _streamed(request, membership: Membership, title: str, intro: str, steps) -> HttpResponse:
    """A page that shows each step of a long read as it happens, the last one leading to the
    summary. The steps run after the view returns: with the member's keys, language and time
    zone taken now."""
    page = render_to_string(
        "mailin/progress.html",
        process_context(membership, "mail", title=title, intro=intro, place=PLACE),
        request,
    )
    head, tail = page.split(PLACE)
    ring, language, zone = (
        keyring.current(),
        translation.get_language(),
        timezone.get_current_timezone(),
    )
    code = membership.process.code

    def stream():
        yield head
        with keyring.using(ring), translation.override(language), timezone.override(zone):
            try:
                for step in steps:
                    yield _line(step, code)
            except Exception as error:  # its text may quote what it read: only its kind
                logger.error("a mail read stopped: %s", type(error).__name__)
                yield _line(
                    services.Step(
                        _("Something went wrong, so it stopped. Nothing was stored."), failed=True
                    ),
                    code,
                )
        yield tail

    return StreamingHttpResponse(stream(), content_type="text/html; charset=utf-8")


def _line(step: services.Step, code: str) -> str:
    if step.failed:
        return format_html('<li class="card errors" role="alert">{}</li>\n', step.text)
    if step.batch is not None:
        return format_html(
            '<li class="card"><strong>{}</strong> <a href="{}">{}</a></li>\n',
            step.text,
            reverse("mail-import", args=[code, step.batch.pk]),
            _("Read the summary"),
        )
    return format_html('<li class="card">{}</li>\n', step.text)
