"""The review workflow when two programs act at once: one wins, the other is told to reload
(the rest of the workflow is tests/unit/test_workflow.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers.workflow import ADMIN, JUST, ok


def test_two_processes_deciding_at_once(wf):
    ok(wf, "claim", "R-APPROVE", user="rev1")
    v = str(json.loads(ok(wf, "show", "R-APPROVE", "--format", "json", user=ADMIN))["version"])
    argv = [
        sys.executable,
        "-m",
        "reviewer",
        "decide",
        "R-APPROVE",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        "--expect-version",
        v,
        "--database",
        wf.url_for("rev1"),
        *wf.user_args("rev1"),
    ]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(c for c, _ in results)
    assert codes == [0, 4], results
    loser = next(err for c, err in results if c == 4)
    assert "changed by rev1" in loser and "reload" in loser
    data = json.loads(ok(wf, "show", "R-APPROVE", "--format", "json", user=ADMIN))
    assert len(data["decisions"]) == 1
    assert ok(wf, "verify", user=ADMIN).startswith("OK")
