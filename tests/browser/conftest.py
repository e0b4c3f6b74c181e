"""Browser tests: a real `uphold serve` per test worker, Debian's Chromium, axe on every page.

Every page a test loads must be checked with `checked(page)`: the page fixture fails a test
that loaded a page of ours without running axe on it. Contexts are phone-sized (375 px), and
one context per role logs in once per worker, through the login form with a TOTP code, as a
person would.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe

from uphold.accounts.services import totp_code

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
AXE = Axe()


@pytest.hookimpl(trylast=True)  # after pytest-django's and pytest's own reordering
def pytest_collection_modifyitems(items):
    """Marks the browser tests and runs them last. Once Playwright has started in a test
    process, its event loop makes Django refuse database access there
    (SynchronousOnlyOperation), so no database test may come after a browser test."""
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS, "headless": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(worker: str) -> tuple[str | None, callable]:
    """On PostgreSQL each worker's server gets a database of its own, dropped afterwards."""
    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        return None, lambda: None
    import psycopg

    name = f"uphold_browser_{worker}_{os.getpid()}"
    admin = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlparse(url)._replace(path=f"/{name}").geturl(), drop


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The demo, set up and served exactly as `make demo` does, on a free port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    data = tmp_path_factory.mktemp("server-data")
    database_url, drop = _database_url(worker)
    inbox, smtp = _mail_server()
    env = os.environ | {
        "UPHOLD_MODE": "demo",
        "UPHOLD_DATA_DIR": str(data),
        "UPHOLD_SMTP_HOST": "127.0.0.1",
        "UPHOLD_SMTP_PORT": str(smtp.port),
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "uphold.cli"]
    setup = subprocess.run(
        [*command, "demo", "--no-serve"], env=env, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr
    port = free_port()
    log = open(data / "server.log", "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    accounts = {a["role"]: a for a in json.loads((data / "demo-accounts.json").read_text())}
    yield {
        "url": base,
        "accounts": accounts,
        "data": data,
        "database_url": database_url,
        "inbox": inbox,
    }
    process.terminate()
    process.wait(timeout=10)
    log.close()
    smtp.stop()
    drop()


def _mail_server():
    """A real SMTP server (aiosmtpd) for the served app: what it sends lands in `inbox`."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Inbox(list):
        async def handle_DATA(self, server, session, envelope):
            self.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    return inbox, smtp


class Visits:
    """Which of our pages a browser page loaded, and which of them axe has checked."""

    def __init__(self, base: str) -> None:
        self.base, self.loaded, self.checked = base, [], set()

    def track(self, page) -> None:
        def on_navigate(frame) -> None:
            if frame == page.main_frame and frame.url.startswith(self.base):
                self.loaded.append(frame.url)

        page.on("framenavigated", on_navigate)


@pytest.fixture
def visits(server):
    made = Visits(server["url"])
    yield made
    unchecked = [url for url in made.loaded if url not in made.checked]
    assert not unchecked, f"pages loaded but not checked with axe: {unchecked}"


def checked(page, visits: Visits | None = None) -> None:
    """Zero axe violations, and nothing wider than the phone screen."""
    page.wait_for_load_state("load")
    results = AXE.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1).slice(0, 4)"
        ".map(e => e.tagName + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth + ' '"
        " + e.getBoundingClientRect().right + ' ' + e.outerHTML.slice(0, 80))"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen: {wide}"
    if visits is not None:
        visits.checked.add(page.url)


_used_windows: set[tuple[str, int]] = set()


def fresh_code(account: dict) -> str:
    """A code as the app shows it, waiting for the next one if this worker just used it.

    A code works once (the server refuses a reused one), as with a person logging in twice.
    """
    window = int(time.time() // 30)
    if (account["username"], window) in _used_windows:
        time.sleep(30 - time.time() % 30 + 0.5)
        window = int(time.time() // 30)
    _used_windows.add((account["username"], window))
    return totp_code(account["totp_key"])


def log_in(page, server, role: str, visits: Visits | None = None) -> None:
    account = server["accounts"][role]
    page.goto(f"{server['url']}/login/")
    if visits is not None:
        checked(page, visits)
    page.get_by_label("Username").fill(account["username"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_label("Code from your authenticator app").fill(fresh_code(account))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server['url']}/")


@pytest.fixture(scope="session")
def role_contexts(browser, server):
    """One logged-in context per role, shared by every test of this worker."""
    contexts = {}

    def get(role: str):
        if role not in contexts:
            context = browser.new_context(viewport=PHONE, locale="en-GB")
            page = context.new_page()
            log_in(page, server, role)
            page.close()
            contexts[role] = context
        return contexts[role]

    yield get
    for context in contexts.values():
        context.close()


@pytest.fixture
def page_as(role_contexts, visits):
    """A new page in the logged-in context of a role; closed after the test."""
    pages = []

    def make(role: str):
        page = role_contexts(role).new_page()
        visits.track(page)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.close()


@pytest.fixture
def fresh_page(browser, visits):
    """A page in a new, logged-out context."""
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    visits.track(page)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    folder = Path("test-artifacts/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
