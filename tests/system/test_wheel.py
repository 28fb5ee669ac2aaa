"""The built wheel, installed in a fresh virtual environment outside the checkout, carries
its resources: it evaluates an example with the bundled rule set. It declares the
dependencies of pyproject.toml; the environment takes them from the test environment (a
path, not its .pth files, so the checkout itself stays out of reach) rather than installing
them again, which would only measure pip."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_and_reads_bundled_resources(tmp_path, examples):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], check=True
    )
    wheels = list(dist.glob("reviewer-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [line.split(": ", 1)[1] for line in wheel.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist: ") and "extra ==" not in line]  # fmt: skip
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(r.replace(" ", "") for r in requires) == sorted(d.replace(" ", "") for d in declared)
    assert any(r.startswith("pypdf") for r in requires)  # verify --pdf needs it
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheels[0])],
        check=True,
    )
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    out = subprocess.run(
        [str(env_dir / "bin" / "reviewer"), "evaluate", "--format", "json", str(examples[0])],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result[0]["reference"] == "EX-0001"
    assert result[0]["recommendation"] == "conditions"
    assert result[0]["rule_set"] == "human-rights@2"
    where = subprocess.run(
        [str(py), "-c", "import reviewer; print(reviewer.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(env_dir) in where  # the installed copy, not the checkout
