"""Reviewer beside GoRules ZEN, end to end as a user runs each, in one run.

    bench/peer/setup.sh                               # once: bench/peer/.venv with zen-engine
    .venv/bin/python bench/peer/compare.py [--n 20000] [--rounds 5] [--single-rounds 15] [--seed 1]

1. Makes N FULLY KNOWN requests: `reviewer.demo.generate(N, seed)`, then every field the
   bundled rule set reads that the generator left unknown is given a known value (drawn from a
   seeded random stream over the field's values), and each customer's name gets the request's
   reference, so every request is its own customer (HR-30's customer totals are the request's
   own figures, in Reviewer's `evaluate` as in the ZEN graph). Each request is checked fully
   known: no finding of Reviewer's names a missing field, except HR-23 asking for the end
   users of a reseller that lists none (`end_users: []`, a known value that the graph covers).
2. Writes them as JSONL (N requests; and the first one alone), runs `reviewer evaluate FILE
   --format json` and `zen_evaluate.py FILE --findings` once on each and checks, request by
   request, the same recommendation and the same fired rules with the same outcomes; prints
   the number of disagreements and fails (exit 1) on any.
3. Times, alternating (the order rotates every round), whole processes with stdout to
   /dev/null: N requests and one request without a database (a --database SQLite file that
   does not exist: the bundled rule set), and one request with a database (made by `reviewer
   db upgrade`, its active rule set is the bundled one). ZEN's driver runs as it is (its
   engine with a loader) and, for one request, with --create-decision too; ZEN's figure is
   the faster of the two (see zen_evaluate.py). Children run in a normal
   environment: PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE unset, REVIEWER_DATABASE_URL
   unset, XDG_DATA_HOME, XDG_CONFIG_HOME and XDG_CACHE_HOME in a fresh temporary folder (no user database,
   no settings file). Prints medians and the ratio Reviewer/ZEN beside each target.
4. Prints the in-process evaluation time per request of each, for reference (ZEN both ways:
   `engine.evaluate(key, doc)` as the driver, and `create_decision(text).evaluate(doc)`).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REVIEWER_PY = ROOT / ".venv" / "bin" / "python"
ZEN_PY = HERE / ".venv" / "bin" / "python"
GRAPH = HERE / "human-rights.json"
DRIVER = HERE / "zen_evaluate.py"
TARGETS = {"n": 0.5, "single": 3.0, "single_db": 5.0}

sys.path.insert(0, str(ROOT))
from reviewer import demo, rules  # noqa: E402
from reviewer import request as rq  # noqa: E402

# Known values for fields the generator may leave unknown, by field (else by type).
NUMBERS = {
    "data.retention_days": [0, 14, 90, 365, 1095, 1096, 3650],
    "safeguards.match_threshold": [0.9, 0.95, 0.99, 0.995],
    **{f"scale.{k}": v for k, v in demo.SCALE.items()},
}


def _value(path: str, t: Any, rng: random.Random) -> Any:
    if path in NUMBERS:
        return rng.choice(NUMBERS[path])
    if t.kind == "bool":
        return rng.random() < 0.5
    if t.kind == "enum":
        return rng.choice(t.values)
    if t.kind == "set":
        return []  # a known "none" (the generator gives every set rules read but these)
    if t.kind == "objlist":
        return []
    if t.kind == "country":
        return rng.choice(demo.PLACES)[0]
    if t.kind == "region":
        return rng.choice(demo.PLACES)[1]
    if t.kind == "str":
        if path.endswith("city"):
            return rng.choice(demo.PLACES)[2]
        return f"{rng.choice(demo.STEMS)} Partners Ltd"
    raise AssertionError(f"no known value for {path} ({t.kind})")


def fully_known(doc: dict[str, Any], read: list[str], rng: random.Random) -> dict[str, Any]:
    """The request with every field in `read` (RuleSet.fields_read()) known, and its own
    customer (the reference in the name)."""
    doc = copy.deepcopy(doc)
    for path in read:
        head, _, rest = path.partition("[].")
        if rest:  # a field of the items of a list of objects
            section, _, key = head.rpartition(".")
            owner = doc.setdefault(section, {}) if section else doc
            items = owner.setdefault(key, [])
            spec = rq.SCHEMA[section][key] if section else rq.SCHEMA[key]
            for item in items:
                if item.get(rest) is None:
                    item[rest] = _value(f"{head}[].{rest}", spec.item[rest], rng)
            continue
        section, _, key = path.rpartition(".")
        if not section:
            if doc.get(key) is None:
                doc[key] = _value(key, rq.SCHEMA[key], rng)
            continue
        sec = doc.get(section)
        if sec is None:
            sec = doc[section] = {}
        if sec.get(key) is None:
            sec[key] = _value(path, rq.SCHEMA[section][key], rng)
    doc["customer"]["name"] = f"{doc['customer']['name']} [{doc['reference']}]"
    clean, problems = rq.validate(rq.drop_nulls(doc))
    if problems or clean is None:
        raise AssertionError(f"{doc['reference']}: filled request is invalid: {problems}")
    return clean


def make_requests(n: int, seed: int) -> list[dict[str, Any]]:
    ruleset = rules.load_bundled()
    read = sorted(ruleset.fields_read())
    rng = random.Random(seed * 104729 + 7)
    docs = []
    for doc in demo.generate(n, seed=seed):
        known = fully_known(doc, read, rng)
        ev = ruleset.evaluate(known).to_json(known["reference"])
        for f in ev["findings"]:
            if f["missing"] and not (f["rule"] == "HR-23" and known.get("end_users") == []):
                raise AssertionError(f"{known['reference']}: {f['rule']} still misses {f['missing']}")
        docs.append(known)
    return docs


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "REVIEWER_DATABASE_URL")}  # fmt: skip
    env["XDG_DATA_HOME"] = str(home / "data")
    env["XDG_CONFIG_HOME"] = str(home / "config")
    env["XDG_CACHE_HOME"] = str(home / "cache")  # the parsed rule set, kept by the untimed first run
    return env


def reviewer_cmd(path: Path, database: str) -> list[str]:
    return [str(REVIEWER_PY), "-m", "reviewer", "evaluate", str(path), "--format", "json",
            "--database", database]  # fmt: skip


def zen_cmd(path: Path, findings: bool = False, create_decision: bool = False) -> list[str]:
    flags = [*(["--findings"] if findings else []), *(["--create-decision"] if create_decision else [])]
    return [str(ZEN_PY), str(DRIVER), str(path), *flags]


def run_json(cmd: list[str], env: dict[str, str]) -> Any:
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, encoding="utf-8")
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")
    return json.loads(p.stdout)


def agreement(path: Path, database: str, env: dict[str, str], create_decision: bool = False
              ) -> tuple[int, int, list[str]]:  # fmt: skip
    """(requests, disagreements, examples) between `reviewer evaluate` and the ZEN driver."""
    mine = {r["reference"]: r for r in run_json(reviewer_cmd(path, database), env)}
    theirs = {r["reference"]: r for r in run_json(zen_cmd(path, True, create_decision), env)}
    if mine.keys() != theirs.keys():
        raise SystemExit(f"{path}: the two outputs name different requests")
    bad = []
    for ref, r in mine.items():
        z = theirs[ref]
        fr = sorted((f["rule"], f["outcome"]) for f in r["findings"])
        fz = sorted((f["rule"], f["outcome"]) for f in z["findings"])
        if r["recommendation"] != z["recommendation"] or fr != fz:
            bad.append(f"{ref}: reviewer {r['recommendation']} {fr} / zen {z['recommendation']} {fz}")
    return len(mine), len(bad), bad[:5]


def wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr.decode(errors='replace')}")
    return dt


def race(cmds: dict[str, list[str]], rounds: int, env: dict[str, str]) -> dict[str, list[float]]:
    """Wall times of each command, `rounds` each, the order rotating every round, after one
    untimed run of each (bytecode caches written, files in the page cache)."""
    for cmd in cmds.values():
        wall(cmd, env)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    order = list(cmds)
    for i in range(rounds):
        for k in order[i % len(order) :] + order[: i % len(order)]:
            times[k].append(wall(cmds[k], env))
    return times


INPROCESS_ZEN = r"""
import json, sys, time, zen
text = open(sys.argv[1], encoding="utf-8").read()
docs = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8") if line.strip()]
content = zen.ZenDecisionContent(text)
engine = zen.ZenEngine({"loader": lambda key: content})
decision = zen.ZenEngine().create_decision(text)
ways = {"engine": lambda d: engine.evaluate("graph", d), "decision": lambda d: decision.evaluate(d)}
best = {}
for _ in range(int(sys.argv[3])):
    for name, evaluate in ways.items():
        t0 = time.perf_counter()
        for d in docs:
            evaluate(d)
        t = (time.perf_counter() - t0) / len(docs)
        best[name] = min(best.get(name, t), t)
print(json.dumps(best))
"""


def inprocess(docs: list[dict[str, Any]], path: Path, rounds: int, env: dict[str, str]) -> dict[str, float]:
    """Per request, best of `rounds` over the same parsed documents: Reviewer's
    `RuleSet.evaluate(doc)` (each round on a rule set compiled afresh, so nothing is
    remembered from an earlier round; also the first round alone), and ZEN's
    `engine.evaluate(key, doc)` (a loader giving a ZenDecisionContent, as the driver) and
    `engine.create_decision(text).evaluate(doc)`."""
    times = []
    for _ in range(rounds):
        ruleset = rules.load_text(rules.bundled_text(), origin=rules.BUNDLED, cache=False)
        ruleset.compile()  # afresh, before the clock starts
        t0 = time.perf_counter()
        for d in docs:
            ruleset.evaluate(d)
        times.append((time.perf_counter() - t0) / len(docs))
    p = subprocess.run([str(ZEN_PY), "-c", INPROCESS_ZEN, str(GRAPH), str(path), str(rounds)],
                       env=env, capture_output=True, text=True, check=True)  # fmt: skip
    zen_best = json.loads(p.stdout)
    return {"reviewer_first": times[0], "reviewer": min(times), "zen_engine": zen_best["engine"],
            "zen_decision": zen_best["decision"]}  # fmt: skip


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds of each at N")
    ap.add_argument("--single-rounds", type=int, default=15, help="timed rounds of each for one request")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--skip-slow", action="store_true", help="skip the one run of zen --create-decision on the N requests"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (requests, database)")
    args = ap.parse_args()
    for var in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"):
        if os.environ.get(var):
            print(f"note: {var} is set here; the timed children run without it", file=sys.stderr)
    if not ZEN_PY.exists():
        print(f"no {ZEN_PY}: run bench/peer/setup.sh first", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE))
    import make_graph  # the graph checked in must be the one the TOML gives

    toml = make_graph.tomllib.loads(make_graph.TOML.read_text(encoding="utf-8"))
    expected = make_graph.build(toml["parameters"])
    if json.loads(GRAPH.read_text(encoding="utf-8")) != expected:
        print(f"{GRAPH} differs from what make_graph.py makes of the rule set: run it", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="reviewer-peer-"))
    try:
        env = child_env(tmp)
        print(f"load before: {loadavg()}")
        t0 = time.perf_counter()
        docs = make_requests(args.n, args.seed)
        print(f"made {len(docs)} fully known requests (seed {args.seed}, one customer each) "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        many, one = tmp / f"requests-{args.n}.jsonl", tmp / "request-1.jsonl"
        write_jsonl(many, docs)
        write_jsonl(one, docs[:1])
        print(f"single request: {docs[0]['reference']}, "
              f"{rules.load_bundled().evaluate(docs[0]).recommendation}")  # fmt: skip
        nodb = f"sqlite:///{tmp / 'no-such-folder' / 'none.db'}"
        db_path = tmp / "bench.db"
        db = f"sqlite:///{db_path}"
        subprocess.run([str(REVIEWER_PY), "-m", "reviewer", "db", "upgrade", "--user", "bench",
                        "--database", db], env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip

        checked = disagreements = 0
        for path, database, create_decision in ((many, nodb, False), (one, nodb, False), (one, db, False),
                                                (one, nodb, True)):  # fmt: skip
            count, bad, examples = agreement(path, database, env, create_decision)
            checked += count
            disagreements += bad
            for line in examples:
                print("  DISAGREE", line)
        recs: Counter[str] = Counter()
        fired: Counter[str] = Counter()
        for d in docs:
            ev = rules.load_bundled().evaluate(d).to_json(d["reference"])
            recs[ev["recommendation"]] += 1
            fired.update(f"{f['rule']} {f['outcome']}" for f in ev["findings"])
        print(f"agreement: {checked} request evaluations checked ({args.n}; 1; 1 with the database; 1 by "
              f"zen --create-decision), "
              f"{disagreements} disagreements; recommendations {dict(sorted(recs.items()))}")  # fmt: skip
        print("findings among the N: " + ", ".join(f"{k} {v}" for k, v in sorted(fired.items())))
        if disagreements:
            return 1

        zen_one = {"zen": zen_cmd(one), "zen --create-decision": zen_cmd(one, create_decision=True)}
        cases = [
            (f"{args.n} requests, no database", TARGETS["n"], args.rounds,
             {"reviewer": reviewer_cmd(many, nodb), "zen": zen_cmd(many)}),
            ("1 request, no database", TARGETS["single"], args.single_rounds,
             {"reviewer": reviewer_cmd(one, nodb), **zen_one}),
            ("1 request, with a database", TARGETS["single_db"], args.single_rounds,
             {"reviewer": reviewer_cmd(one, db), **zen_one}),
        ]  # fmt: skip
        print(
            f"\nwhole process, wall time, stdout to /dev/null, median of {args.rounds} (N) and "
            f"{args.single_rounds} (one request) rounds, the order rotating every round;"
        )
        print("ZEN's figure is its faster way where both were timed:")  # fmt: skip
        print(f"  {'case':30} {'reviewer':>9} {'zen':>9} {'ratio':>7}  target")
        report = []
        for name, target, rounds, cmds in cases:
            times = race(cmds, rounds, env)
            med = {k: statistics.median(v) for k, v in times.items()}
            way = min((k for k in med if k != "reviewer"), key=med.__getitem__)
            ratio = med["reviewer"] / med[way]
            ok = "met" if ratio <= target else "NOT met"
            print(f"  {name:30} {med['reviewer']:8.3f}s {med[way]:8.3f}s {ratio:6.2f}x  <= {target}x: {ok}"
                  + (f"  ({way})" if len(med) > 2 else ""))  # fmt: skip
            report.append((name, times, med))
        for name, times, med in report:
            for k, v in times.items():
                print(f"    {name}, {k}: median {med[k]:.3f}s of {' '.join(f'{t:.3f}' for t in v)}")
        if not args.skip_slow:
            t = wall(zen_cmd(many, create_decision=True), env)
            print(f"    {args.n} requests, zen --create-decision (one run, for reference): {t:.3f}s")

        ip = inprocess(docs, many, 3, env)
        print(f"\nin process, per request over the {len(docs)} requests (parsed documents), best of 3:")
        print(f"  reviewer RuleSet.evaluate(doc):               {ip['reviewer'] * 1e6:7.1f} us "
              f"(first round {ip['reviewer_first'] * 1e6:.1f} us)")  # fmt: skip
        print(f"  zen engine.evaluate(key, doc), as the driver: {ip['zen_engine'] * 1e6:7.1f} us "
              f"(reviewer/zen {ip['reviewer'] / ip['zen_engine']:.2f}x)")  # fmt: skip
        print(f"  zen create_decision(text).evaluate(doc):      {ip['zen_decision'] * 1e6:7.1f} us "
              f"(reviewer/zen {ip['reviewer'] / ip['zen_decision']:.2f}x)")  # fmt: skip
        print(f"load after: {loadavg()}")
        stray = [*(tmp / "data").rglob("*.db"), *(tmp / "no-such-folder").rglob("*")]
        if stray:  # evaluate must have used the bundled rule set, not a database of its own
            print(f"a database appeared where none should be: {stray}", file=sys.stderr)
            return 1
        if args.keep:
            print(f"kept {tmp}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
