"""Keep API keys out of stored and printed error texts.

A server may echo the key it was sent in an error body ("Incorrect API key provided:
sk-..."); simkit stores error texts in `runs.error` and prints them. `redact` replaces the
value of every key variable the config names (`llm.api_key_env`, each role's and each
endpoint's) and of any environment variable that looks like a secret (a name containing
KEY, TOKEN, SECRET or PASSWORD) with `***`.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
MIN_SECRET_LEN = 6  # shorter values ("1", "true") would blank out ordinary words


def key_env_names(llm: Any) -> set[str]:
    """The API-key variable names an `LLMConfig` refers to (default, roles, endpoints)."""
    names: set[str] = set()
    if llm is None:
        return names
    blocks = [llm, *getattr(llm, "roles", {}).values()]
    for block in blocks:
        if getattr(block, "api_key_env", None):
            names.add(block.api_key_env)
        for endpoint in getattr(block, "endpoints", None) or []:
            if endpoint.api_key_env:
                names.add(endpoint.api_key_env)
    return names


def secret_values(names: Iterable[str] = ()) -> list[str]:
    wanted = set(names) | {name for name in os.environ if _SECRET_NAME.search(name)}
    values = {os.environ.get(name, "") for name in wanted}
    return sorted((v for v in values if len(v) >= MIN_SECRET_LEN), key=len, reverse=True)


def redact(text: str, llm: Any = None) -> str:
    """`text` with every secret value replaced by `***`."""
    if not text:
        return text
    for value in secret_values(key_env_names(llm)):
        if value in text:
            text = text.replace(value, "***")
    return text
