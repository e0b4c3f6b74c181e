"""Every page of a process costs the same SQL queries with 10 log entries as with 1,000: work
per page is bounded by what the page shows, not by the size of the record."""

import json

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from uphold.accounts.models import User
from uphold.audit.services import chained_models
from uphold.processes.models import Process
from uphold.web.management.commands.generate import generate_processes

from .conftest import log_in
from .process_pages import process_urls


def _costs(process: Process, account: dict) -> dict[str, tuple[int, int]]:
    """Route name -> (status, queries) of one GET of each page, as its contact member."""
    client = log_in(Client(), User.objects.get(username=account["username"]), account["password"])
    client.get(f"/p/{process.code}/")  # the session's first request loads what it keeps
    costs = {}
    for name, url in process_urls(process):
        with CaptureQueriesContext(connection) as seen:
            status = client.get(url).status_code
        costs[name] = (status, len(seen))
    return costs


def test_every_process_page_costs_the_same_queries_at_10_and_1000_entries(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    sizes = {}
    for entries, seed in ((10, 1), (1000, 2)):
        (process,), accounts = generate_processes(1, entries, seed)
        contact = next(a for a in accounts if a["role"] == "contact")
        sizes[entries] = _costs(process, contact)
    small, large = sizes[10], sizes[1000]
    assert small.keys() == large.keys() and len(small) >= 40
    assert sum(status == 200 for status, _n in small.values()) >= 25  # pages, not refusals
    # The audit page names its 50 events with one query per kind of row among them, so its
    # count follows the mix of kinds on the page, never the length of the chain: bounded.
    kinds = len(chained_models())
    for costs in (small, large):
        status, queries = costs.pop("audit")
        assert status == 200 and queries <= small["process"][1] + kinds
    differ = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert differ == {}, json.dumps(differ)


def test_the_dashboard_costs_the_same_queries_at_10_and_5000_entries(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    counted = {}
    for entries, seed in ((10, 3), (5000, 4)):
        (process,), accounts = generate_processes(1, entries, seed)
        contact = next(a for a in accounts if a["role"] == "contact")
        client = log_in(
            Client(), User.objects.get(username=contact["username"]), contact["password"]
        )
        client.get(f"/p/{process.code}/log/")  # the session's first request loads what it keeps
        with CaptureQueriesContext(connection) as seen:
            page = client.get(f"/p/{process.code}/")
        assert page.status_code == 200 and b'data-figure="messages_to_respondent"' in page.content
        counted[entries] = len(seen)
    assert counted[10] == counted[5000], counted


def test_the_portal_and_the_survivors_page_cost_the_same_at_10_and_1000_entries(
    db, settings, tmp_path
):
    """X's portal and the survivor's page list what belongs to them, never the record."""
    settings.DATA_DIR = tmp_path
    pages = {"respondent": ["portal"], "survivor": ["survivor", "survivor-preferences"]}
    sizes = {}
    for entries, seed in ((10, 5), (1000, 6)):
        (process,), accounts = generate_processes(1, entries, seed)
        sizes[entries] = {}
        for role, names in pages.items():
            account = next(a for a in accounts if a["role"] == role)
            costs = _costs(process, account)
            sizes[entries] |= {(role, name): costs[name] for name in names}
    assert all(status == 200 for status, _n in sizes[10].values()), sizes[10]
    assert sizes[10] == sizes[1000], (sizes[10], sizes[1000])
