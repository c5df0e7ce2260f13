"""Shared fixtures: the example third-party plugins installed as a user would, and CLI helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "simkit-townhall"
NOTES_EXAMPLE = ROOT / "examples" / "simkit-notes"
SMALL_PERSONAS = ROOT / "tests" / "data" / "personas_small.jsonl"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; .ci/run installs it


def require_chromium() -> Path:
    """The headless browser for the HTML report's tests. Missing on a developer's machine: the
    test is skipped; missing under CI (CI=true, as .ci/run and every CI service set): the test
    fails, so CI never passes without having run the browser tests."""
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"Debian's chromium is not installed ({CHROMIUM}): apt-get install chromium"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def townhall_site(tmp_path_factory) -> Path:
    """pip-install the example plugin packages (examples/simkit-townhall, examples/simkit-notes)
    into a private folder, and put that folder on sys.path (in-process) and PYTHONPATH
    (subprocesses)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(EXAMPLE), str(NOTES_EXAMPLE)],
        check=True,
    )
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))


@pytest.fixture
def cli_env(townhall_site) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(townhall_site), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "200"
    return env


def run_cli(args: list[str], env: dict | None = None, cwd: Path | None = None, timeout: float = 600, check_rc: int | None = 0):
    """Run `simkit ARGS` as a user would, in a subprocess; returns the CompletedProcess."""
    proc = subprocess.run(
        [sys.executable, "-m", "simkit.cli", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )
    if check_rc is not None and proc.returncode != check_rc:
        raise AssertionError(f"simkit {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def townhall_yaml(tmp_path: Path, **overrides) -> Path:
    """A townhall scenario file in tmp_path using the small test personas."""
    import yaml

    data = yaml.safe_load((EXAMPLE / "townhall.yaml").read_text())
    data["population"]["personas"] = str(SMALL_PERSONAS)
    data["output"] = {"db": str(tmp_path / "run.db")}
    for key, value in overrides.items():
        data[key] = value
    path = tmp_path / "townhall.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def kill_after_ticks(scenario: Path, db: Path, ticks: int, env: dict | None = None, poll: float = 0.02) -> None:
    """Start `simkit run SCENARIO` in a subprocess and SIGKILL it once `ticks` ticks of `db`
    are committed (the way a crashed machine or an OOM kill stops a run)."""
    import signal
    import sqlite3
    import time

    proc = subprocess.Popen([sys.executable, "-m", "simkit.cli", "run", str(scenario), "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        time.sleep(poll)
        try:
            con = sqlite3.connect(db, timeout=1)
            committed = con.execute("select count(*) from ticks").fetchone()[0]
            con.close()
        except sqlite3.Error:
            continue
        if committed >= ticks:
            break
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
