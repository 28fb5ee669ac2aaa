"""Evaluate JSON Lines request files with the GoRules ZEN engine, as a ZEN user would write it.

    bench/peer/.venv/bin/python bench/peer/zen_evaluate.py FILE.jsonl... [--graph GRAPH.json] [--findings]
                                                          [--create-decision]

Loads the decision graph once (bench/peer/human-rights.json by default) through a loader that
keeps it as a pre-compiled `zen.ZenDecisionContent` (the pattern ZEN's Python reference gives
for the best performance), reads every line of every file (blank lines skipped), evaluates it
with the synchronous `ZenEngine.evaluate(key, request)`, and prints one JSON list of
{"reference", "recommendation"} with one `json.dumps` of the whole list (indent 2, as for
people) after the last request. `--findings` adds each
request's fired rules ({"rule", "outcome"}), which bench/peer/compare.py uses to check the
graph against Reviewer.

`--create-decision` evaluates with `engine.create_decision(text).evaluate(request)` instead,
the basic usage of ZEN's reference. With zen-engine 2.1.3 the two ways trade start-up for
speed: the engine's first `evaluate(key, ...)` costs about 0.1 s once, while a created
decision starts in a few milliseconds but costs several times more per call (compare.py
prints both). compare.py times one request both ways and takes the faster as ZEN's figure.
"""

import argparse
import json
import os
import sys

import zen

GRAPH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "human-rights.json")


def main() -> int:
    parser = argparse.ArgumentParser(description="evaluate request files with a ZEN decision graph")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--graph", default=GRAPH)
    parser.add_argument("--findings", action="store_true", help="print each request's fired rules too")
    parser.add_argument(
        "--create-decision",
        action="store_true",
        help="evaluate with engine.create_decision(text).evaluate(request)",
    )
    args = parser.parse_args()

    if args.create_decision:
        with open(args.graph, encoding="utf-8") as f:
            evaluate = zen.ZenEngine().create_decision(f.read()).evaluate
    else:
        cache = {}

        def loader(key):
            if key not in cache:
                with open(key, encoding="utf-8") as f:
                    cache[key] = zen.ZenDecisionContent(f.read())
            return cache[key]

        engine = zen.ZenEngine({"loader": loader})

        def evaluate(request):
            return engine.evaluate(args.graph, request)

    results = []
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                request = json.loads(line)
                response = evaluate(request)["result"]
                item = {"reference": request["reference"], "recommendation": response["recommendation"]}
                if args.findings:
                    item["findings"] = response["findings"]
                results.append(item)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
