"""The real server hands an upload to Uphold as it arrives, so nothing is spooled in clear.

Half of a document is sent; before the rest follows, its first sealed chunks must already be
in the database. A server that buffers whole bodies (to memory or a temporary file) first
would show nothing yet.
"""

import socket
import sqlite3
import time
from urllib.parse import urlparse

from .conftest import checked


def incomplete_chunks(server) -> int:
    query = (
        "SELECT count(*) FROM attachments_attachmentchunk c JOIN attachments_attachment a "
        "ON a.id = c.attachment_id WHERE a.complete = false"
    )
    if server["database_url"]:
        import psycopg

        with psycopg.connect(server["database_url"]) as conn:
            return conn.execute(query).fetchone()[0]
    with sqlite3.connect(server["data"] / "uphold.sqlite3") as conn:
        return conn.execute(query.replace("false", "0")).fetchone()[0]


def test_an_upload_is_sealed_while_it_streams_in(page_as, server, visits):
    page = page_as("support")
    page.goto(f"{server['url']}/p/kestrel/documents/")
    checked(page, visits)
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    boundary = "uphold-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="streamed.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    half = b"s" * (2 * 1024 * 1024)
    body_length = len(head) + 2 * len(half) + len(tail)
    url = urlparse(server["url"])
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            (
                f"POST /p/kestrel/documents/ HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Cookie: {cookies}\r\nOrigin: {server['url']}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {body_length}\r\nConnection: close\r\n\r\n"
            ).encode()
            + head
            + half
        )
        for _ in range(50):
            if incomplete_chunks(server) > 0:
                break
            time.sleep(0.1)
        assert incomplete_chunks(server) > 0, "the server waited for the whole body"
        sock.sendall(half + tail)
        response = sock.recv(4096).decode(errors="replace")
    assert response.startswith("HTTP/1.1 302"), response[:200]
    assert incomplete_chunks(server) == 0
