"""A digest of a run's trajectory: every table a seeded run writes, minus wall-clock columns.

Used by the test that keeps TrendSim's trajectory byte-identical across engine changes: the
same seed and scripted answers must give the same events, exposures, calls, states and metrics.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

# table -> the columns that are part of the trajectory (wall-clock columns left out)
TRAJECTORY = {
    "events": "tick, seq, sim_time, agent_id, kind, payload_json",
    "exposures": "tick, seq, sim_time, agent_id, items_json",
    # request_hash is the cache key, not part of the trajectory (it gained the run seed later)
    "llm_calls": "tick, seq, agent_id, purpose, model, params_json, messages_json, response_json, parsed_ok",
    "agent_state": "tick, agent_id, state_json",
    "metrics": "tick, name, value, labels_json",
    "trendsim_comments": "tick, cid, author, attack, text, sim_time, censored, rank",
}
ORDER = {"agent_state": "tick, agent_id", "metrics": "tick, name, labels_json", "trendsim_comments": "tick, cid"}


def digest(db_path: Path, run_id: str) -> dict[str, str]:
    """Per table: sha256 over its trajectory rows of `run_id`, in their stored order."""
    con = sqlite3.connect(db_path)
    out = {}
    for table, cols in TRAJECTORY.items():
        order = ORDER.get(table, "tick, seq")
        rows = con.execute(f"select {cols} from {table} where run_id = ? order by {order}", [run_id]).fetchall()
        h = hashlib.sha256()
        for row in rows:
            h.update(repr(row).encode())
        out[table] = f"{len(rows)}:{h.hexdigest()[:16]}"
    con.close()
    return out


if __name__ == "__main__":
    import sys

    con = sqlite3.connect(sys.argv[1])
    (run_id,) = con.execute("select run_id from runs order by started_at desc limit 1").fetchone()
    for table, value in digest(Path(sys.argv[1]), run_id).items():
        print(table, value)
