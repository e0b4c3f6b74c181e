"""In the browser: the members page warns of a key outside its role, and an upload the server
cannot read is answered with a page that says why (both checked with axe at phone width)."""

import sqlite3

from .conftest import checked


def run_sql(server, query: str, params: tuple = ()) -> None:
    if server["database_url"]:
        import psycopg

        with psycopg.connect(server["database_url"]) as conn:
            conn.execute(query.replace("?", "%s"), params)
        return
    with sqlite3.connect(server["data"] / "uphold.sqlite3") as conn:
        conn.execute(query, params)


JUNK = (
    "INSERT INTO crypto_sealedscopekey (scope_key_id, user_id, sealed, attestation, holder_mac,"
    " created_at) SELECT k.id, u.id, ?, ?, '', k.created_at FROM crypto_scopekey k"
    " JOIN processes_process p ON p.id = k.process_id, accounts_user u"
    " WHERE p.code = 'kestrel' AND k.scope = 'record' AND k.active = ? AND u.username = ?"
)
REMOVE = (
    "DELETE FROM crypto_sealedscopekey WHERE attestation = ? AND user_id IN"
    " (SELECT id FROM accounts_user WHERE username = ?)"
)


def test_the_members_page_warns_of_a_key_held_outside_its_role(page_as, server, visits):
    respondent = server["accounts"]["respondent"]["username"]
    marker = "cd" * 32
    run_sql(server, JUNK, (b"junk" * 20, marker, True, respondent))
    try:
        page = page_as("support")
        page.goto(f"{server['url']}/p/kestrel/members/")
        checked(page, visits)
        warning = page.get_by_role("alert")
        assert "Keys held outside their role" in warning.inner_text()
        assert f"{respondent}, key to the record" in warning.inner_text()
    finally:
        run_sql(server, REMOVE, (marker, respondent))


def test_an_upload_with_too_many_fields_gets_a_page_that_says_why(page_as, server, visits):
    page = page_as("support")
    page.goto(f"{server['url']}/p/kestrel/documents/")
    checked(page, visits)

    def add_fields(route):
        request = route.request
        body = request.post_data_buffer
        boundary = body.split(b"\r\n", 1)[0]
        extra = b"".join(
            boundary + f'\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nx\r\n'.encode()
            for n in range(300)
        )
        end = body.rindex(boundary + b"--")
        route.continue_(post_data=body[:end] + extra + body[end:])

    page.route(
        "**/p/kestrel/documents/",
        lambda route: add_fields(route) if route.request.method == "POST" else route.continue_(),
    )
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "note.txt", "mimeType": "text/plain", "buffer": b"a note" * 100}]
    )
    with page.expect_navigation():
        page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    checked(page, visits)
    assert "Nothing was stored" in page.content()
    page.unroute("**/p/kestrel/documents/")
