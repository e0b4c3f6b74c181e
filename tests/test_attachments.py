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


def test_a_document_cut_short_is_detected(people, support_ring):
    writer = Writer(people["support"], "kestrel", "record", "three.bin")
    writer.write(b"c" * (3 * CHUNK_BYTES))
    attachment = writer.finish()
    last = AttachmentChunk.objects.filter(attachment=attachment).order_by("-index").first()
    last.delete()
    Attachment.objects.filter(pk=attachment.pk).update(chunks=attachment.chunks - 1)
    with pytest.raises(CryptoError):
        b"".join(read(Attachment.objects.get(pk=attachment.pk)))


def test_an_upload_with_a_wrong_csrf_token_leaves_nothing(people, accounts):
    from django.test import Client

    from .conftest import log_in

    client = log_in(
        Client(enforce_csrf_checks=True), people["contact"], accounts["contact"]["password"]
    )
    before = database_state()
    upload = io.BytesIO(b"x" * 100_000)
    upload.name = "a.bin"
    response = client.post(
        reverse("documents", args=["kestrel"]), {"file": upload, "csrfmiddlewaretoken": "wrong"}
    )
    assert response.status_code == 403
    assert database_state() == before


@pytest.mark.parametrize("role", ["survivor", "community", "respondent"])
def test_only_the_group_uploads(role, people):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises((PermissionDenied, Http404)):
        Writer(people[role], "kestrel", "record", "x")
