"""The upgrade that brings the judgement fixes (migration 0006): requests that are not decided
are evaluated again, with one audited event; decided ones keep their evaluation, which verify
checks against the hash the event recorded."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine

from reviewer.cli import main as cli_main
from reviewer.models.db import alembic_config
from tests.helpers.workflow import ADMIN, JUST, ok


def stored(cli, ref: str) -> tuple[str, int, str]:
    (row,) = cli.sql(
        "SELECT evaluation, version, recommendation FROM requests WHERE reference = :r", {"r": ref}
    )
    return row


def upgrade(cli):
    """`reviewer db upgrade` as whoever migrates: the admin on SQLite, the owner in team mode."""
    if cli.backend == "sqlite":
        return cli("db", "upgrade", user=ADMIN)
    cli.capsys.readouterr()
    code = cli_main(["db", "upgrade", "--database", cli.owner_url()])
    out, err = cli.capsys.readouterr()
    return code, out, err


def back_to_0005(cli) -> None:
    """The database as revision 0005 left it: 0007's tables taken down again (its
    downgrade), the version table saying 0005 (0006 changed data only)."""
    engine = create_engine(cli.owner_url())
    try:
        command.downgrade(alembic_config(engine), "0006")
    finally:
        engine.dispose()
    cli.sql("UPDATE alembic_version SET version_num = '0005'")


def test_the_upgrade_evaluates_again_what_is_not_decided_and_keeps_decisions(wf):
    ok(wf, "claim", "R-COND", user="rev1")
    ok(wf, "decide", "R-COND", "--outcome", "approve_with_conditions", "--justification", JUST, user="rev1")
    # What the engine before the fixes stored: HR-29 named nothing it lacked (R-INFO), and
    # the decided request's evaluation in that engine's words.
    info, info_version, _ = stored(wf, "R-INFO")
    old_info = json.loads(info)
    hr29 = next(f for f in old_info["findings"] if f["rule"] == "HR-29")
    assert hr29["missing"] == ["customer.sector"]  # what the fixed engine says
    hr29["missing"] = []
    cond, cond_version, _ = stored(wf, "R-COND")
    old_cond = json.loads(cond)
    old_cond["findings"][0]["explanation"] = "private: as the engine before the fixes put it"
    old_cond_text = json.dumps(old_cond, sort_keys=True, separators=(",", ":"))
    wf.sql("UPDATE requests SET evaluation = :e WHERE reference = 'R-INFO'", {"e": json.dumps(old_info)})
    wf.sql("UPDATE requests SET evaluation = :e WHERE reference = 'R-COND'", {"e": old_cond_text})
    back_to_0005(wf)

    code, _out, err = wf("verify")
    assert code == 7 and "run reviewer db upgrade" in err  # a reading command never migrates
    code, _out, err = upgrade(wf)
    assert code == 0, err

    info, version, rec = stored(wf, "R-INFO")
    # 0006 evaluated it again, and 0007 with the totals of its customer (the scenario
    # requests are all Harbour Ltd's, and the active @2 reads customer totals).
    assert version == info_version + 2 and rec == "needs_information"
    ((matched,),) = wf.sql("SELECT payload FROM audit_events WHERE action = 'customers'")
    assert "R-INFO" in json.loads(matched)["evaluated"]
    assert "R-COND" not in json.loads(matched)["evaluated"]  # decided: kept
    assert next(f for f in json.loads(info)["findings"] if f["rule"] == "HR-29")["missing"] == [
        "customer.sector"
    ]
    cond, version, _ = stored(wf, "R-COND")
    assert cond == old_cond_text and version == cond_version  # kept, as decided
    ((action, actor, payload),) = wf.sql(
        "SELECT action, actor, payload FROM audit_events WHERE action <> 'customers' "
        "ORDER BY seq DESC LIMIT 1"
    )
    event = json.loads(payload)
    assert action == "reevaluate" and actor == "upgrade"
    assert event["requests"] == 6 and event["changed"] == 0 and list(event["kept"]) == ["R-COND"]

    code, out, err = wf("verify")
    assert code == 0, out + err

    # A kept evaluation is still checked: an edit of it is named.
    wf.sql(
        "UPDATE requests SET evaluation = :e WHERE reference = 'R-COND'",
        {"e": cond.replace("engine", "Engine")},
    )
    code, out, _ = wf("verify")
    assert code == 1 and "R-COND: the stored evaluation differs from the one the upgrade kept" in out


def test_in_team_mode_only_the_owner_may_write_a_reevaluate_event(db_cli):
    if db_cli.backend != "pg":
        return
    (src,) = db_cli.sql("SELECT prosrc FROM pg_proc WHERE proname = 'append_event'")[0]
    assert "'reevaluate'" in src and "'baseline'" in src
