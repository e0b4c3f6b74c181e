"""`uphold generate` fills realistic processes through the services, as members would."""

import json
import stat
from io import StringIO

from django.core.management import call_command

from uphold.processes.models import Process
from uphold.record.health import health_of
from uphold.record.models import Entry, Meeting, Step


def test_generate_fills_processes_with_a_record_that_verifies(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("generate", processes=2, entries=500, stdout=out)
    processes = list(Process.objects.all())
    assert len(processes) == 2 and all(p.is_sample for p in processes)
    for process in processes:
        assert Entry.objects.filter(process=process).count() == 500
        meetings = set(Meeting.objects.filter(process=process).values_list("outcome", flat=True))
        assert {"held", "no_show", ""} <= meetings  # held, missed, and one planned ahead
        owners = set(Step.objects.filter(process=process).values_list("owner", "status"))
        assert {owner for owner, _status in owners} == {"x", "group"}
        assert {"done", "missed"} <= {status for _owner, status in owners}
        directions = set(Entry.objects.filter(process=process).values_list("direction", flat=True))
        assert {"to_x", "from_x", "to_circle"} <= directions
        assert process.demands.get(number=3).revision == 2  # a demand changed once
        health = health_of(process, process.entries.order_by("-occurred_on")[0].occurred_on)
        assert health.longest_silence and health.longest_silence > 30  # its silences
        assert f"{process.code}\t11 members\t500 log entries" in out.getvalue()
    verified = StringIO()
    call_command("verify", stdout=verified)
    assert verified.getvalue().count("chain and every column intact") == 2
    saved = tmp_path / "generated-accounts.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    accounts = json.loads(saved.read_text())
    assert {a["code"] for a in accounts} == {p.code for p in processes} and len(accounts) == 22
