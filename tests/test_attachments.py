"""Encrypted attachments: streamed in sealed chunks, never whole in memory, never on disk."""

import io
import tracemalloc

import pytest
from django.urls import reverse

from uphold.attachments.models import CHUNK_BYTES, Attachment, AttachmentChunk
from uphold.attachments.services import Writer, read
from uphold.crypto.keyring import Keyring, using
from uphold.crypto.primitives import CryptoError
from uphold.crypto.services import unlock
from uphold.processes.models import Membership
from uphold.record.models import Entry

from .conftest import database_state


@pytest.fixture
def support_ring(people, accounts):
    user = people["support"]
    with using(Keyring(user.pk, unlock(user, accounts["support"]["password"]))) as ring:
        yield ring


def test_upload_and_download_round_trip(client_for):
    client = client_for("contact")
    content = bytes(range(256)) * 1000  # 256 kB: several chunks
    upload = io.BytesIO(content)
    upload.name = "minutes of the first meeting.pdf"
    response = client.post(reverse("documents", args=["kestrel"]), {"file": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get(size=len(content))
    assert attachment.chunks == -(-len(content) // CHUNK_BYTES)
    page = client.get(reverse("documents", args=["kestrel"])).content.decode()
    assert "minutes of the first meeting.pdf" in page
    download = client.get(reverse("document", args=["kestrel", attachment.pk]))
    assert b"".join(download.streaming_content) == content


def test_a_file_past_the_limit_is_refused_clearly_and_nothing_stays(client_for, settings):
    settings.UPHOLD_ATTACHMENT_MAX_MB = 1
    client = client_for("contact")
    before = database_state()
    upload = io.BytesIO(b"x" * (1024 * 1024 + 1))
    upload.name = "too big.bin"
    response = client.post(reverse("documents", args=["kestrel"]), {"file": upload})
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()
    assert database_state() == before


def test_an_empty_form_explains(client_for):
    response = client_for("contact").post(reverse("documents", args=["kestrel"]), {})
    assert response.status_code == 400 and "Choose a file" in response.content.decode()


def test_no_temporary_file_is_written(client_for, tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1
    upload = io.BytesIO(b"secret-temp-marker " * 10000)
    upload.name = "a.txt"
    client_for("contact").post(reverse("documents", args=["kestrel"]), {"file": upload})
    assert list(tmp_path.iterdir()) == []


def test_a_100_mb_file_never_sits_whole_in_memory(people, support_ring):
    membership = Membership.objects.get(user=people["support"], process__code="kestrel")
    piece = bytes(range(256)) * 256  # 64 kB, as a web server hands a body over
    tracemalloc.start()
    writer = Writer(people["support"], membership.process, "record", "big.bin")
    for _ in range(1600):
        writer.write(piece)
    attachment = writer.finish()
    _, upload_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    total = sum(len(part) for part in read(attachment))
    _, download_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert attachment.size == total == 100 * 1024 * 1024
    assert upload_peak < 10 * 1024 * 1024, upload_peak
    assert download_peak < 10 * 1024 * 1024, download_peak


def test_swapped_chunks_are_detected(people, support_ring):
    membership = Membership.objects.get(user=people["support"], process__code="kestrel")
    writer = Writer(people["support"], membership.process, "record", "two.bin")
    writer.write(b"a" * CHUNK_BYTES + b"b" * CHUNK_BYTES)
    attachment = writer.finish()
    first, second = AttachmentChunk.objects.filter(attachment=attachment).order_by("index")
    AttachmentChunk.objects.filter(pk=first.pk).update(index=99)
    AttachmentChunk.objects.filter(pk=second.pk).update(index=0)
    AttachmentChunk.objects.filter(pk=first.pk).update(index=1)
    with pytest.raises(CryptoError):
        b"".join(read(Attachment.objects.get(pk=attachment.pk)))


def test_the_site_admin_and_other_roles_open_no_attachment(client_for):
    attachment = Attachment.objects.filter(process__code="kestrel").first()
    url = reverse("document", args=["kestrel", attachment.pk])
    assert client_for("admin").get(url).status_code == 404
    assert client_for("respondent").get(url).status_code == 403
    assert client_for("outsider").get(url).status_code == 404


@pytest.mark.tampers  # alters the database behind Uphold's back
def test_a_document_cut_short_is_detected(people, support_ring):
    writer = Writer(people["support"], "kestrel", "record", "three.bin")
    writer.write(b"c" * (3 * CHUNK_BYTES))
    attachment = writer.finish()
    last = AttachmentChunk.objects.filter(attachment=attachment).order_by("-index").first()
    last.delete()
    Attachment.objects.filter(pk=attachment.pk).update(chunks=attachment.chunks - 1)
    with pytest.raises(CryptoError):
        b"".join(read(Attachment.objects.get(pk=attachment.pk)))


# Every page that takes a file, with a member who may upload there.
UPLOADS = {
    "documents": "support",
    "letter-documents": "survivor",
    "entry-documents": "contact",
}


def upload_url(route: str) -> str:
    if route == "entry-documents":
        entry = Entry.objects.filter(process__code="kestrel").first()
        return reverse(route, args=["kestrel", entry.pk])
    return reverse(route, args=["kestrel"])


def stored() -> tuple[int, int]:
    return Attachment.objects.count(), AttachmentChunk.objects.count()


BOUNDARY = "uphold-test-boundary"


def part(name: str, value: bytes, filename: str | None = None, *headers: str) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = "\r\n".join([f"--{BOUNDARY}", f"Content-Disposition: {disposition}", *headers])
    return head.encode() + b"\r\n\r\n" + value + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


# A file of several chunks, sealed before Django meets what is wrong after it.
FILE = part("file", bytes(range(256)) * 1000, "minutes.pdf", "Content-Type: application/pdf")

# Each body as a browser never sends it, and what the member reads, in English and German.
UNREADABLE = {
    "more fields than allowed after the file": (
        lambda token: multipart(
            part("csrfmiddlewaretoken", token.encode()),
            FILE,
            *(part(f"extra{i}", b"1") for i in range(250)),
        ),
        "it did not arrive the way a browser sends a file (it had more than 200 form fields). "
        "Nothing was stored.",
        "es kam nicht so an, wie ein Browser eine Datei sendet (es hatte mehr als 200 "
        "Formularfelder). Es wurde nichts gespeichert.",
    ),
    "a field over the limit after the file": (
        lambda token: multipart(
            part("csrfmiddlewaretoken", token.encode()),
            FILE,
            part("note", b"y" * (2 * 1024 * 1024 + 1)),
        ),
        "The form fields sent with the file come to more than 2 MB",
        "Die mit der Datei gesendeten Formularfelder sind zusammen größer als 2 MB",
    ),
    "a transfer encoding that does not decode": (
        lambda token: multipart(
            part("csrfmiddlewaretoken", token.encode()),
            part(
                "file",
                b"QUJD" * 100_000 + b"QU=D",  # 300 kB of base64, then a broken quad
                "minutes.pdf",
                "Content-Transfer-Encoding: base64",
            ),
        ),
        "its transfer encoding is broken). Nothing was stored.",
        "ist seine Übertragungskodierung fehlerhaft). Es wurde nichts gespeichert.",
    ),
}


def csrf_client(client_for, role: str):
    """A member's client that is held to the CSRF check, as a browser is, and its token."""
    client = client_for(role, enforce_csrf_checks=True)
    client.get(reverse("home"))
    return client, client.cookies["csrftoken"].value


@pytest.mark.parametrize("route", UPLOADS)
@pytest.mark.parametrize("kind", UNREADABLE)
def test_an_upload_django_cannot_read_is_refused_clearly_and_leaves_nothing(
    kind, route, client_for, monkeypatch
):
    body, english, german = UNREADABLE[kind]
    client, token = csrf_client(client_for, UPLOADS[route])
    sealed = []
    seal = Writer._seal

    def counted(writer, *args, **kwargs):
        sealed.append(writer.index)
        seal(writer, *args, **kwargs)

    monkeypatch.setattr(Writer, "_seal", counted)
    before, counts = database_state(), stored()
    for language, message in (("en", english), ("de", german)):
        response = client.post(
            upload_url(route),
            body(token),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            headers={"accept-language": language},
        )
        assert response.status_code == 400, (language, response.status_code)
        assert message in response.content.decode(), language
        assert stored() == counts, language
    assert sealed, "chunks were sealed before the failure, and removed after it"
    assert database_state() == before


@pytest.mark.parametrize("route", UPLOADS)
def test_an_upload_with_a_wrong_csrf_token_is_refused_and_leaves_nothing(route, client_for):
    client, _token = csrf_client(client_for, UPLOADS[route])
    before, counts = database_state(), stored()
    for language, message in (
        ("en", "This form has expired"),
        ("de", "Dieses Formular ist abgelaufen"),
    ):
        upload = io.BytesIO(b"x" * 200_000)
        upload.name = "a.bin"
        response = client.post(
            upload_url(route),
            {"csrfmiddlewaretoken": "wrong", "file": upload},
            headers={"accept-language": language},
        )
        # Django's CSRF refusal, as on every other route (tests/test_security.py).
        assert response.status_code == 403
        assert message in response.content.decode()
        assert stored() == counts
    assert database_state() == before


@pytest.mark.parametrize("route", UPLOADS)
def test_an_upload_failing_on_the_server_leaves_nothing(route, client_for, monkeypatch):
    def broken(writer):
        writer._seal(bytes(writer.buffer), final=True)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Writer, "finish", broken)
    client = client_for(UPLOADS[route], raise_request_exception=False)
    before = database_state()
    upload = io.BytesIO(b"x" * 200_000)
    upload.name = "a.bin"
    response = client.post(upload_url(route), {"file": upload})
    assert response.status_code == 500
    assert database_state() == before


@pytest.mark.tampers  # backdates unfinished uploads in the database
def test_the_worker_removes_uploads_left_unfinished_for_a_day(people, as_member, monkeypatch):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from uphold.audit.services import verify
    from uphold.processes.models import Process

    # Inside the test's transaction the worker must keep the test's database connection.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    now = timezone.now()

    def begun(name: str, ago: timedelta, finish: bool = False):
        writer = Writer(people["support"], "kestrel", "record", name)
        writer.write(b"z" * (3 * CHUNK_BYTES + 1))  # three chunks sealed, one byte held
        # Backdated before it is finished, so the chain records the finished row as it is.
        Attachment.objects.filter(pk=writer.attachment.pk).update(created_at=now - ago)
        writer.attachment.created_at = now - ago
        if finish:
            writer.finish()
        return writer.attachment.pk

    with as_member("support"):
        stale = begun("killed mid-upload", timedelta(days=1, minutes=1))
        fresh = begun("still arriving", timedelta(hours=23))
        done = begun("finished long ago", timedelta(days=30), finish=True)
    assert AttachmentChunk.objects.filter(attachment_id=stale).count() == 3
    # The worker holds no key.
    call_command("worker", batch=True, startup_delay=False, verbosity=0, remind_every=0)
    assert not Attachment.objects.filter(pk=stale).exists()
    assert not AttachmentChunk.objects.filter(attachment_id=stale).exists()
    assert Attachment.objects.filter(pk__in=[fresh, done]).count() == 2
    assert AttachmentChunk.objects.filter(attachment_id=fresh).count() == 3
    # Unfinished uploads were never in the audit chain: removing them leaves it whole.
    assert verify(Process.objects.get(code="kestrel")) is None


@pytest.mark.parametrize("role", ["survivor", "community", "respondent"])
def test_only_the_group_uploads(role, people):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises((PermissionDenied, Http404)):
        Writer(people[role], "kestrel", "record", "x")
