"""The parsed rule sets kept on disk (rules.diskcache, issue 18): a hit gives the very rule set
and evaluations a fresh load gives; an entry that is damaged, not this user's, writable by
others, of another text or version, or that does not give its rule set is ignored and written
again; a cache folder that cannot be written changes nothing but the time."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import tomllib
from pathlib import Path

import pytest

from reviewer import request as rq
from reviewer import rules
from reviewer.cli import main
from reviewer.rules import diskcache

TEXT = rules.bundled_text()


def _entry(text: str = TEXT) -> Path:
    return diskcache.folder() / diskcache._name(diskcache._digest(text))


def _docs(examples) -> list[dict]:
    return [rq.validate(rq.loads(p.read_text(encoding="utf-8")))[0] for p in examples]


def _evaluations(ruleset: rules.RuleSet, docs: list[dict]) -> list[dict]:
    return [rules.evaluate_with(ruleset, d, None).to_json(d["reference"]) for d in docs]


def _same_rule_set(a: rules.RuleSet, b: rules.RuleSet) -> None:
    assert (a.key, a.sha256, a.title, a.effective_on, a.description, a.source_text) == \
        (b.key, b.sha256, b.title, b.effective_on, b.description, b.source_text)  # fmt: skip
    assert a.parameters == b.parameters and a.definitions == b.definitions
    assert [(r.id, r.title, r.outcome, r.override, r.when_text, r.source, r.raw) for r in a.rules] == \
        [(r.id, r.title, r.outcome, r.override, r.when_text, r.source, r.raw) for r in b.rules]  # fmt: skip
    assert a.compiled_source == b.compiled_source


def _not_parsed(monkeypatch) -> None:
    """From here on, parsing TOML fails the test: what loads comes from the cache."""

    def refuse(_text: str) -> None:
        raise AssertionError("the TOML was parsed")

    monkeypatch.setattr(tomllib, "loads", refuse)


def test_a_hit_gives_the_rule_set_and_evaluations_of_a_fresh_load(examples, monkeypatch):
    assert not _entry().exists()
    first = rules.load_text(TEXT)
    assert _entry().is_file() and oct(_entry().stat().st_mode & 0o777) == "0o600"
    assert oct(diskcache.folder().stat().st_mode & 0o777) == "0o700"
    fresh = rules.load_text(TEXT, cache=False)
    with monkeypatch.context() as m:
        _not_parsed(m)
        hit = rules.load_text(TEXT)
    _same_rule_set(hit, fresh)
    _same_rule_set(first, fresh)
    docs = _docs(examples)
    want = _evaluations(fresh, docs)
    assert _evaluations(hit, docs) == want
    assert [rules.evaluate_with(hit, d, None, by_nodes=True).to_json(d["reference"]) for d in docs] == want
    assert [e["recommendation"] for e in want] != ["approve"] * len(want)  # the examples say something


def _rewrite(mutate) -> None:
    """Rewrite the entry as `mutate(entry dict)` leaves it, its data digest made right again
    when `mutate` changed the data (so only a deeper check can catch it)."""
    path = _entry()
    entry = json.loads(path.read_text(encoding="utf-8"))
    data = entry["data"]
    mutate(entry)
    if entry.get("data") != data and isinstance(entry.get("data"), str):
        entry["data_sha256"] = hashlib.sha256(entry["data"].encode()).hexdigest()
    path.write_text(json.dumps(entry), encoding="utf-8")


def _another_rule_set(entry: dict) -> None:
    """Data of a rule set that loads, but another one (its title changed, so its hash)."""
    title = '"title": "Human-rights rule set for face recognition sales"'
    assert title in entry["data"]
    entry["data"] = entry["data"].replace(title, title[:-1] + ' (forged)"', 1)


DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "not json": lambda p: p.write_bytes(b"\x00\xff garbage"),
    "not utf-8": lambda p: p.write_bytes(p.read_bytes().replace(b'"format"', b'"\xff\xfeformat"', 1)),
    "another format": lambda p: _rewrite(lambda e: e.update(format="reviewer rule-set cache 0")),
    "another python": lambda p: _rewrite(lambda e: e.update(python="2.7.18")),
    "another reviewer": lambda p: _rewrite(lambda e: e.update(reviewer="0.0.1")),
    "another text": lambda p: _rewrite(lambda e: e.update(text_sha256="0" * 64)),
    "a field more": lambda p: _rewrite(lambda e: e.update(code="print('pwned')")),
    "a field less": lambda p: _rewrite(lambda e: e.pop("sha256")),
    "data not its digest": lambda p: p.write_text(p.read_text().replace("cameras", "camera", 1)),
    "data of another rule set": lambda p: _rewrite(_another_rule_set),
    "data not a table": lambda p: _rewrite(lambda e: e.update(data="[1, 2]")),
    "data with nan": lambda p: _rewrite(lambda e: e.update(data='{"id": NaN}')),
    "data with null": lambda p: _rewrite(lambda e: e.update(data='{"id": null}')),
    "a malformed tag": lambda p: _rewrite(
        lambda e: e.update(data='{"effective_on": {"\\u0000": ["code", "x"]}}')
    ),
    "a bad date": lambda p: _rewrite(lambda e: e.update(data='{"effective_on": {"\\u0000": ["date", "x"]}}')),
    "nested too deeply": lambda p: _rewrite(
        lambda e: e.update(data='{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    ),
    "data that does not load": lambda p: _rewrite(lambda e: e.update(data='{"id": "x"}')),
    "data whose examples fail": lambda p: _rewrite(
        lambda e: e.update(data=e["data"].replace('"cameras": 50,', '"cameras": 5,', 1))
    ),
    "writable by the group": lambda p: p.chmod(0o660),
    "writable by everyone": lambda p: p.chmod(0o606),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_or_mismatched_entry_is_ignored_and_written_again(damage, examples):
    fresh = rules.load_text(TEXT, cache=False)
    rules.load_text(TEXT)
    good = _entry().read_bytes()
    DAMAGE[damage](_entry())
    # Data that is well formed but does not give its rule set is caught by the loader.
    assert (diskcache.read(TEXT) is None) != damage.startswith(("data of another", "data that", "data whose"))
    got = rules.load_text(TEXT)
    _same_rule_set(got, fresh)
    assert _evaluations(got, _docs(examples)) == _evaluations(fresh, _docs(examples))
    assert _entry().read_bytes() == good and oct(_entry().stat().st_mode & 0o777) == "0o600"
    assert diskcache.read(TEXT) is not None


def test_another_users_entry_or_folder_and_links_are_not_used(monkeypatch, tmp_path):
    rules.load_text(TEXT)
    assert diskcache.read(TEXT) is not None
    before = _entry().stat().st_mtime_ns
    with monkeypatch.context() as m:
        m.setattr(diskcache.os, "geteuid", lambda: os.getuid() + 1)  # as if the files were another's
        assert diskcache.read(TEXT) is None
        _same_rule_set(rules.load_text(TEXT), rules.load_text(TEXT, cache=False))
    assert _entry().stat().st_mtime_ns == before  # nor written into another user's folder
    # A symbolic link in the entry's place is not followed, even to a good entry.
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(_entry().read_bytes())
    elsewhere.chmod(0o600)
    _entry().unlink()
    _entry().symlink_to(elsewhere)
    assert diskcache.read(TEXT) is None
    rules.load_text(TEXT)
    assert not _entry().is_symlink() and diskcache.read(TEXT) is not None
    # A folder others may write to is not used, nor written into.
    folder = diskcache.folder()
    folder.chmod(0o777)
    try:
        assert diskcache.read(TEXT) is None
        before = _entry().stat().st_mtime_ns
        rules.load_text(TEXT)
        assert _entry().stat().st_mtime_ns == before
    finally:
        folder.chmod(0o700)
    assert diskcache.read(TEXT) is not None


def test_a_stored_rule_set_is_the_one_its_hash_names_whatever_the_cache_holds(monkeypatch):
    """An entry that gives another rule set, consistently with itself, is not used for a
    stored version (its hash is the stored one), and is no integrity problem of the text."""
    rules.load_text(TEXT)
    _rewrite(_another_rule_set)
    entry = json.loads(_entry().read_text(encoding="utf-8"))
    forged = rules._load(diskcache._decode(json.loads(entry["data"])), TEXT, "forged")
    entry["sha256"] = forged.sha256
    _entry().write_text(json.dumps(entry), encoding="utf-8")
    assert diskcache.read(TEXT) is not None and diskcache.read(TEXT)[1] == forged.sha256
    fresh = rules.load_text(TEXT, cache=False)
    assert forged.sha256 != fresh.sha256
    row = type("Row", (), {"key": fresh.key, "sha256": fresh.sha256, "content": TEXT})()
    monkeypatch.setattr(rules, "_COMPILED", type(rules._COMPILED)())
    _same_rule_set(rules.compiled(row), fresh)


def test_an_unwritable_cache_folder_still_evaluates(tmp_path, monkeypatch, examples, capsys):
    monkeypatch.setattr(rules, "_BUNDLED_CACHE", [])  # loaded by this command, not before
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    files = [str(p) for p in examples]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["evaluate", *files, "--format", "json"]) == 0
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(rules, "_BUNDLED_CACHE", [])
    with contextlib.redirect_stdout(io.StringIO()) as again:
        assert main(["evaluate", *files, "--format", "json"]) == 0
    assert out.getvalue() == again.getvalue() and capsys.readouterr().err == ""
    assert not (blocker / "cache").exists()
    assert len(json.loads(out.getvalue())) == len(files)


def test_evaluate_from_the_cache_and_by_the_nodes_prints_what_a_compiled_rule_set_prints(
    monkeypatch, examples
):
    """A few requests are evaluated by the rules' nodes, without compiling; more by the
    generated function; the rule set parsed or from the cache: the same output."""
    files = [str(p) for p in examples]

    def evaluate() -> str:
        monkeypatch.setattr(rules, "_BUNDLED_CACHE", [])
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["evaluate", *files, "--format", "json"]) == 0
        return out.getvalue()

    parsed = evaluate()
    assert "compiled_source" not in rules.load_bundled().__dict__  # evaluated by the nodes
    with monkeypatch.context() as m:
        _not_parsed(m)
        assert evaluate() == parsed
    monkeypatch.setattr(rules, "FEW", 0)
    compiled = evaluate()
    assert "compiled_source" in rules.load_bundled().__dict__
    assert compiled == parsed


def test_entries_are_written_whole_and_the_oldest_removed_beyond_the_limit(monkeypatch):
    monkeypatch.setattr(diskcache, "KEEP", 3)
    texts = [TEXT.replace('title = "', f'title = "v{i} ', 1) for i in range(5)]
    for i, text in enumerate(texts):
        rules.load_text(text)
        os.utime(_entry(text), (1_000_000 + i, 1_000_000 + i))
    left = sorted(p.name for p in diskcache.folder().iterdir())
    assert len(left) == 3 and not any(name.endswith(".tmp") for name in left)
    assert [diskcache.read(t) is not None for t in texts] == [False, False, True, True, True]


def test_toml_data_round_trips_with_its_types():
    data = tomllib.loads(
        "a = 2026-12-02\nb = 2026-12-02T10:20:30.5+01:00\nc = 10:20:30\nd = 2026-12-02T10:20:30Z\n"
        'e = 1979-05-27T07:32:00\nf = -0.0\ng = 1e300\nh = [1, "x", true, {k = 1}]\n'
        '[t]\n"\\u0000" = "tag"\n"x" = [[1, 2], []]\n'
    )
    back = diskcache._decode(json.loads(json.dumps(diskcache._encode(data))))
    assert back == data
    assert [type(back[k]) for k in "abcdef"] == [
        dt.date,
        dt.datetime,
        dt.time,
        dt.datetime,
        dt.datetime,
        float,
    ]
    assert back["b"].utcoffset() == dt.timedelta(hours=1) and back["d"].utcoffset() == dt.timedelta(0)
    assert rules.content_hash(back) == rules.content_hash(data)
