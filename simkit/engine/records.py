"""What a run writes about itself at the start: its id, and its agents' rows."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from simkit.store.writer import dumps


def run_id_stem(name: str) -> str:
    """The scenario name as it may appear in a run id and in default output paths: letters,
    digits, `.`, `_` and `-` only (no `/`, `..`, markup or spaces), at most 48 characters."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")[:48].strip(".-_")
    return stem or "run"


def new_run_id(name: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{run_id_stem(name)}-{stamp}-{secrets.token_hex(2)}"


def agent_rows(agents: list) -> list[dict]:
    """`agents` table rows of the plugin's `AgentSpec`s (set-up's, or those a fork added)."""
    return [
        {
            "agent_id": a.agent_id,
            "kind": a.kind,
            "persona_id": a.persona.id if a.persona else None,
            "persona_json": a.persona.model_dump_json() if a.persona else dumps(a.extra),
        }
        for a in agents
    ]
