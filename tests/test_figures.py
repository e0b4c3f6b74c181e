"""The figures (uphold/figures.py) on a process made by hand, where every number is worked out
below: `uphold stats --json` prints them, the dashboard (the overview page) shows them, and
both agree with the hand count."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from uphold.crypto.keyring import using
from uphold.demands import services as demands
from uphold.people import services as people
from uphold.processes.models import Role
from uphold.processes.sample import build_process
from uphold.record import services as record

from .conftest import _acting, log_in

D = timedelta(days=1)

# Worked out by hand from `wren` below (T is today):
# - to X on T-100, T-90, T-30, T-20; from X on T-60; a meeting held T-50, one missed T-40.
# - Silences: T-100 to his reply T-60 (40 days); T-60 to the meeting T-50 (10 days); since
#   the meeting T-50, with two messages waiting (50 days, still running). Longest: 50.
# - Reply times: T-60 answers the message of T-100 (40 days); the meeting answered nothing
#   that was waiting. Median: 40.
# - Steps: X done, missed, open with its day passed; the group done, open not yet due.
# - Circles and partners: one informed by X (everyone), one by X at the top only, one by
#   the group, a partner by nobody; a friend is not counted (the demand is about circles
#   and partners).
EXPECTED = {
    "messages_to_respondent": 4,
    "messages_from_respondent": 1,
    "longest_silence_days": 50,
    "current_silence_days": 50,
    "median_reply_days": 40,
    "meetings_held": 1,
    "meetings_missed": 1,
    "steps_done_by_respondent": 1,
    "steps_missed_by_respondent": 1,
    "steps_open_by_respondent": 1,
    "steps_overdue_by_respondent": 1,
    "steps_done_by_group": 1,
    "steps_missed_by_group": 0,
    "steps_open_by_group": 1,
    "steps_overdue_by_group": 0,
    "informed_by_respondent": 2,
    "informed_by_group": 1,
    "uninformed": 1,
    "demand_status": {"1": "open", "2": "met"},
}
EXPECTED_TAGS = {"shifting": 2, "denial": 2, "no_reply": 0, "agreement": 0}


@pytest.fixture
def wren(db):
    accounts = {
        a["role"]: a
        for a in build_process(
            "wren",
            [
                ("wren-support", Role.SUPPORT),
                ("wren-contact", Role.CONTACT),
                ("wren-community", Role.COMMUNITY),
            ],
        )
    }
    today = timezone.localdate()
    support, support_ring = _acting(accounts["support"])
    with using(support_ring):
        demands.add_demand(support, "wren", "Stop contacting her.", "", "No contact at all.")
        demands.add_demand(support, "wren", "Tell your group.", "", "Everyone knows.")
        demands.record_progress(
            support, "wren", 2, note="He told them.", status="met", status_seen="open"
        )
    contact, ring = _acting(accounts["contact"])
    with using(ring):

        def entry(days_ago, kind="message", direction="none", tags=()):
            return record.EntryData(
                occurred_on=today - days_ago * D,
                kind=kind,
                direction=direction,
                summary=f"{kind} {direction} {days_ago}",
                tags=list(tags),
            )

        record.add_entries(
            contact,
            "wren",
            [
                entry(100, direction="to_x"),
                entry(90, direction="to_x", tags=["shifting"]),
                entry(60, direction="from_x", tags=["shifting", "denial"]),
                entry(50, kind="meeting_held"),
                entry(40, kind="meeting_missed"),
                entry(30, direction="to_x"),
                entry(20, direction="to_x", tags=["denial"]),
            ],
        )
        for owner, due, status in [
            ("x", -30, "done"),
            ("x", -20, "missed"),
            ("x", -5, "open"),
            ("group", -10, "done"),
            ("group", 10, "open"),
        ]:
            record.add_step(
                contact,
                "wren",
                record.StepData(
                    owner=owner,
                    what=f"{owner} {due}",
                    due_on=today + due * D,
                    agreed_on=today - 60 * D,
                    status=status,
                ),
            )
        for kind, relation, by, reach in [
            ("circle", "political_group", "respondent", "everyone"),
            ("circle", "workplace", "respondent", "leaders"),
            ("circle", "scene", "group", "everyone"),
            ("person", "partner", None, ""),
            ("person", "friend", "group", ""),
        ]:
            person = people.add_person(
                contact, "wren", people.PersonData(kind=kind, relation=relation, name=relation)
            )
            if by:
                people.add_informing(
                    contact,
                    "wren",
                    person.pk,
                    people.InformingData(on=today - 10 * D, by=by, reach=reach),
                )
    return accounts


def stats(account: dict, monkeypatch) -> dict:
    monkeypatch.setenv("UPHOLD_PASSWORD", account["password"])
    out = io.StringIO()
    call_command("stats", "wren", "--user", account["username"], "--json", stdout=out)
    return json.loads(out.getvalue())


def dashboard_figures(html: str) -> dict:
    """Every figure the overview page marks, by its name in `uphold stats`."""
    found = {}
    for name, value, text in re.findall(
        r'data-figure="([\w.]+)"(?: data-value="(\w+)")?>([^<]*)<', html
    ):
        found[name] = value if value else text.strip()
    return found


def test_stats_and_the_dashboard_agree_with_the_hand_count(wren, monkeypatch, client):
    printed = stats(wren["contact"], monkeypatch)
    for name, value in EXPECTED.items():
        assert printed[name] == value, name
    for tag, count in EXPECTED_TAGS.items():
        assert printed["tags"][tag] == count, tag

    contact, _ring = _acting(wren["contact"])
    page = log_in(client, contact, wren["contact"]["password"]).get("/p/wren/")
    assert page.status_code == 200
    shown = dashboard_figures(page.content.decode())
    for name, value in EXPECTED.items():
        if name == "demand_status":
            for number, status in value.items():
                assert shown[f"demand_status.{number}"] == status
        else:
            assert shown[name] == str(value), name


def test_each_figure_links_to_the_entries_behind_it(wren, client):
    contact, _ring = _acting(wren["contact"])
    log_in(client, contact, wren["contact"]["password"])
    html = client.get("/p/wren/").content.decode()
    # The link around each number opens a list holding exactly that many rows.
    for name, url in [
        ("messages_to_respondent", "/p/wren/log/?show=to_x"),
        ("messages_from_respondent", "/p/wren/log/?show=from_x"),
        ("steps_overdue_by_respondent", "/p/wren/steps/?owner=x&status=overdue"),
        ("steps_done_by_group", "/p/wren/steps/?owner=group&status=done"),
    ]:
        assert f'href="{url.replace("&", "&amp;")}" data-figure="{name}"' in html, name
        listed = client.get(url).content.decode()
        rows = listed.count('<li><span class="meta">') if "log" in url else listed.count("<tr><td")
        assert rows == EXPECTED[name], name


def test_stats_refuses_a_member_who_does_not_read_the_record(wren, monkeypatch):
    with pytest.raises(Exception) as refused:
        stats(wren["community"], monkeypatch)
    assert type(refused.value).__name__ == "PermissionDenied"


def test_the_timeline_draws_the_silences_and_counts_what_the_figures_count(wren, client):
    contact, _ring = _acting(wren["contact"])
    log_in(client, contact, wren["contact"]["password"])
    page = client.get("/p/wren/timeline/")
    assert page.status_code == 200
    html = page.content.decode()
    # The silences of 14 days or more: 40 days (T-100 to T-60) and 50 days, still running;
    # the 10 days between his reply and the meeting are not drawn.
    drawn = re.findall(r'<text class="silence-days"[^>]*>(\d+)<', html)
    assert sorted(drawn) == ["40", "50"]
    assert "still going on" in html
    # The table beside the drawing adds up to the figures: 4 messages to X, 1 from him.
    rows = re.findall(r'<td data-label="messages to X">(\d+)</td>', html)
    assert sum(map(int, rows)) == EXPECTED["messages_to_respondent"]
    rows = re.findall(r'<td data-label="messages from X">(\d+)</td>', html)
    assert sum(map(int, rows)) == EXPECTED["messages_from_respondent"]
    year = timezone.localdate().year
    assert client.get(f"/p/wren/timeline/?year={year}").status_code == 200


@pytest.mark.parametrize("year", ["abc", "1999", "20255", "-1"])
def test_a_year_the_timeline_does_not_have_is_refused_with_the_reason(wren, client, year):
    contact, _ring = _acting(wren["contact"])
    log_in(client, contact, wren["contact"]["password"])
    page = client.get(f"/p/wren/timeline/?year={year}")
    assert page.status_code == 400
    assert "The timeline has no year" in page.content.decode()


def report_figures(text: str) -> dict:
    """The figures table of a report (Markdown, or the text of its PDF or HTML)."""
    rows = dict(re.findall(r"\|\s*([^|\n]+?)\s*\|\s*([\d/ —]+?)\s*\|", text))
    return {
        "messages_to_respondent": rows["Messages to X"],
        "messages_from_respondent": rows["Messages from X"],
        "longest_silence_days": rows["Longest silence, in days"],
        "current_silence_days": rows["The silence now, in days"],
        "median_reply_days": rows["Median reply time, in days"],
        "meetings": rows["Meetings held / missed"],
        "steps_x": rows["Steps of X: done / missed / open"],
        "steps_group": rows["Steps of the group: done / missed / open"],
        "informed": rows["Circles and partners informed by X / by the group / by nobody"],
    }


def expected_report_figures() -> dict:
    e = EXPECTED
    return {
        "messages_to_respondent": str(e["messages_to_respondent"]),
        "messages_from_respondent": str(e["messages_from_respondent"]),
        "longest_silence_days": str(e["longest_silence_days"]),
        "current_silence_days": str(e["current_silence_days"]),
        "median_reply_days": str(e["median_reply_days"]),
        "meetings": f"{e['meetings_held']} / {e['meetings_missed']}",
        "steps_x": "{} / {} / {}".format(
            e["steps_done_by_respondent"],
            e["steps_missed_by_respondent"],
            e["steps_open_by_respondent"],
        ),
        "steps_group": "{} / {} / {}".format(
            e["steps_done_by_group"], e["steps_missed_by_group"], e["steps_open_by_group"]
        ),
        "informed": "{} / {} / {}".format(
            e["informed_by_respondent"], e["informed_by_group"], e["uninformed"]
        ),
    }


def report(account: dict, kind: str, fmt: str, out, monkeypatch) -> bytes:
    monkeypatch.setenv("UPHOLD_PASSWORD", account["password"])
    target = out / f"{kind}.{fmt}"
    call_command(
        "report",
        "wren",
        "--kind",
        kind,
        "--format",
        fmt,
        "--out",
        str(target),
        "--user",
        account["username"],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return target.read_bytes()


@pytest.mark.parametrize("kind", ["report-back", "retrospective"])
def test_each_report_gives_the_hand_counted_figures_in_every_format(
    wren, monkeypatch, tmp_path, kind
):
    import shutil
    import subprocess
    from pathlib import Path

    from PIL import Image

    from uphold.reports.models import ReportExport

    wanted = expected_report_figures()
    md = report(wren["contact"], kind, "md", tmp_path, monkeypatch).decode()
    assert report_figures(md) == wanted
    html = report(wren["contact"], kind, "html", tmp_path, monkeypatch).decode()
    cells = re.sub(r"</td>\s*<td>", " | ", html)
    assert report_figures(re.sub(r"</?t[dr]>", "|", cells)) == wanted
    pdf = report(wren["contact"], kind, "pdf", tmp_path, monkeypatch)
    assert pdf.startswith(b"%PDF")
    # Its pages as pictures in the test artefacts, each with something printed on it.
    assert shutil.which("pdftoppm"), "install Debian's poppler-utils (make test does)"
    pages = Path("test-artifacts/reports") / kind
    pages.mkdir(parents=True, exist_ok=True)
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", tmp_path / "r.pdf", pages / "page"], check=True)
    pngs = sorted(pages.glob("page*.png"))
    assert pngs
    for png in pngs:
        low, high = Image.open(png).convert("L").getextrema()
        assert low < 128 < high, f"{png} is blank"
    text = subprocess.run(
        ["pdftotext", "-layout", tmp_path / "r.pdf", "-"], capture_output=True, text=True
    ).stdout
    assert "Messages to X" in text and "Longest silence, in days" in text
    # Each export is on the record, under the chain (the autouse check verifies it).
    assert ReportExport.objects.filter(process__code="wren", kind=kind).count() == 3


def test_the_survivor_update_has_a_content_note_and_none_of_his_messages(
    wren, monkeypatch, tmp_path
):
    md = report(wren["contact"], "survivor-update", "md", tmp_path, monkeypatch).decode()
    assert md.startswith("> **Content note:**")
    # Its figures, in words, are the hand count's.
    e = EXPECTED
    for said in (
        f"{e['meetings_held']} meeting held, {e['meetings_missed']} missed.",
        f"Steps of X: {e['steps_done_by_respondent']} done, {e['steps_missed_by_respondent']} "
        f"missed, {e['steps_open_by_respondent']} open.",
        f"X has not replied for {e['current_silence_days']} days.",
        f"{e['informed_by_respondent']} circles or partners informed by him, "
        f"{e['informed_by_group']} by the group, {e['uninformed']} by nobody.",
    ):
        assert said in md, said
    # The log's summaries (the messages, in the group's words) are not in it.
    assert "message from_x" not in md and "message to_x" not in md


def test_a_report_back_covers_the_time_since_the_last_one(wren, monkeypatch, tmp_path):
    first = report(wren["contact"], "report-back", "md", tmp_path, monkeypatch).decode()
    assert "The whole process" in first
    (tmp_path / "report-back.md").unlink()
    again = report(wren["contact"], "report-back", "md", tmp_path, monkeypatch).decode()
    assert "What happened from" in again


def test_a_report_is_refused_to_a_member_who_does_not_read_the_record(wren, monkeypatch, tmp_path):
    with pytest.raises(Exception) as refused:
        report(wren["community"], "report-back", "md", tmp_path, monkeypatch)
    assert type(refused.value).__name__ == "PermissionDenied"
    assert not (tmp_path / "report-back.md").exists()


def test_a_report_file_is_new_not_a_link_and_only_its_owners(wren, monkeypatch, tmp_path):
    import os
    import stat

    from django.core.management.base import CommandError

    target = tmp_path / "elsewhere.md"
    (tmp_path / "retrospective.md").symlink_to(target)  # dangling: points at nothing yet
    with pytest.raises(CommandError):
        report(wren["contact"], "retrospective", "md", tmp_path, monkeypatch)
    assert not target.exists()
    made = tmp_path / "out"
    made.mkdir()
    report(wren["contact"], "retrospective", "md", made, monkeypatch)
    assert stat.S_IMODE(os.stat(made / "retrospective.md").st_mode) == 0o600
