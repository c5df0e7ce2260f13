"""`simkit sweep --executor ray` on a cluster of two hosts: two network namespaces joined by
a veth pair, each with its own host name (a UTS namespace), a Ray head in one and a worker
node in the other. The sweep's points run on both hosts (each run records its host) and the
merged database holds the same runs as a serial sweep.

Needs root, `ip` and `unshare` (CI runs as root); every namespace and process it creates is
removed at the end, by namespace (the processes inside it), never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.core.test_sweep import content, grid

pytestmark = [pytest.mark.netns, pytest.mark.timeout(420)]

HOSTS = ("simkit-host-a", "simkit-host-b")


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=60)


def kill_namespace(ns: str) -> None:
    """Stop every process inside `ns` (ours: the namespace was made by this test), then delete it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [int(p) for p in sh("ip", "netns", "pids", ns, check=False).stdout.split()]
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while pids and time.monotonic() < deadline and sh("ip", "netns", "pids", ns, check=False).stdout.split():
            time.sleep(0.2)
    sh("ip", "netns", "del", ns, check=False)


@pytest.fixture
def two_hosts(tmp_path):
    """(namespace of host a, its address) after a Ray head in a and a worker node in b are up."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("unshare"):
        pytest.skip("needs root, ip (iproute2) and unshare")
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    tag = f"{os.getpid() % 100000}"
    ns = (f"skA{tag}", f"skB{tag}")
    veth = (f"skva{tag}", f"skvb{tag}")
    net = f"10.{200 + os.getpid() % 50}.{os.getpid() // 50 % 250}"
    ips = (f"{net}.1", f"{net}.2")
    ray = str(Path(sys.executable).parent / "ray")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "RAY_USAGE_STATS_ENABLED": "0",
           # A token in ~/.ray (left by another cluster) would switch token auth on for some
           # of the processes only; this private cluster runs without it.
           "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    temp = tempfile.mkdtemp(prefix="skray", dir="/tmp")  # Ray's socket paths must stay under 108 bytes
    try:
        for name in ns:
            sh("ip", "netns", "add", name)
        sh("ip", "link", "add", veth[0], "type", "veth", "peer", "name", veth[1])
        for name, dev, ip in zip(ns, veth, ips):
            sh("ip", "link", "set", dev, "netns", name)
            sh("ip", "-n", name, "addr", "add", f"{ip}/24", "dev", dev)
            sh("ip", "-n", name, "link", "set", dev, "up")
            sh("ip", "-n", name, "link", "set", "lo", "up")
        common = ["--num-cpus=1", "--disable-usage-stats", f"--temp-dir={temp}"]
        starts = [
            [ray, "start", "--head", f"--node-ip-address={ips[0]}", "--port=6379", "--include-dashboard=false", *common],
            [ray, "start", f"--address={ips[0]}:6379", f"--node-ip-address={ips[1]}", *common],
        ]
        for name, host, cmd in zip(ns, HOSTS, starts):
            # A host of its own: its network namespace and, through unshare, its own host name,
            # inherited by the Ray daemons and the workers they start.
            script = f"hostname {host} && exec {' '.join(cmd)}"
            proc = subprocess.run(["ip", "netns", "exec", name, "unshare", "--uts", "sh", "-c", script],
                                  env=env, capture_output=True, text=True, timeout=180)
            assert proc.returncode == 0, f"ray start on {host} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        yield ns[0], ips[0], env
    finally:
        for name in reversed(ns):
            kill_namespace(name)
        shutil.rmtree(temp, ignore_errors=True)


def test_sweep_runs_on_both_hosts_and_merges_like_a_serial_sweep(two_hosts, tmp_path):
    ns, head_ip, env = two_hosts
    serial = tmp_path / "serial.db"
    run_cli(grid(serial, "--set", "trendsim.cognition=faithful,fused"), timeout=300)

    db = tmp_path / "ray.db"
    args = grid(db, "--set", "trendsim.cognition=faithful,fused", "--executor", "ray")
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "simkit.cli", *args],
        env={**env, "RAY_ADDRESS": f"{head_ip}:6379"}, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.stdout.count("done ") == 4

    hosts = [h for (h,) in sqlite3.connect(db).execute("select host from runs order by rowid")]
    assert set(hosts) == set(HOSTS), f"points ran on {hosts}"
    ray_runs, serial_runs = content(db), content(serial)
    for runs in (ray_runs, serial_runs):
        for rows in runs.values():
            rows["runs"].pop("host")
    assert ray_runs.keys() == serial_runs.keys() and len(ray_runs) == 4
    for key in ray_runs:
        for table in ray_runs[key]:
            assert ray_runs[key][table] == serial_runs[key][table], f"{table} differs for {key[:80]}"
    assert not Path(str(db) + ".parts").exists()
