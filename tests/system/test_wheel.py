"""The built wheel, installed in a fresh virtual environment outside the checkout, carries
its resources: it evaluates an example with the bundled rule set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
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
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheels[0])], check=True)
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
    assert result[0]["rule_set"] == "human-rights@1"
    where = subprocess.run(
        [str(py), "-c", "import reviewer; print(reviewer.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(env_dir) in where  # the installed copy, not the checkout
