"""The desktop bundle's packaging files agree with the project, without building the bundle
(scripts/build-desktop.sh builds it and scripts/check-desktop.sh starts it, in .ci/run)."""

from __future__ import annotations

import configparser
import struct
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def test_desktop_entry_starts_the_console_script_with_the_shipped_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(PACKAGING / "reviewer.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Terminal"] == "false"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert desktop["Exec"].split()[0] in scripts  # `reviewer` on PATH: the bundle's link, or pipx's
    assert desktop["Icon"] == "reviewer"
    png = (ROOT / "resources" / "icons" / "reviewer.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (256, 256)
    assert (ROOT / "resources" / "icons" / "reviewer.svg").is_file()


def test_spec_ships_resources_and_migrations_as_files():
    spec = (PACKAGING / "reviewer.spec").read_text()
    assert 'collect_data_files("reviewer.resources")' in spec
    assert 'collect_data_files("reviewer.models.migrations", include_py_files=True)' in spec
    assert 'collect_submodules("reviewer")' in spec
    migrations = ROOT / "reviewer" / "models" / "migrations"
    assert (migrations / "env.py").is_file() and (migrations / "script.py.mako").is_file()
    assert sorted(migrations.glob("versions/0*.py"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(
        req.startswith("pyinstaller>=") for req in pyproject["project"]["optional-dependencies"]["bundle"]
    )
    assert "icons/*" in pyproject["tool"]["setuptools"]["package-data"]["reviewer.resources"]
