"""Find the JSON object in a model's answer.

Small models wrap JSON in prose or code fences, or stop mid-object. We take the first
complete top-level object (`json.JSONDecoder.raw_decode` from each `{`), which is all the
"repair" an answer gets before the client re-asks.
"""

from __future__ import annotations

import json
from typing import Any

# strict=False: a raw newline or tab inside a string is accepted. Servers whose grammar
# allows control characters in strings (llama.cpp's server does) produce them.
_decoder = json.JSONDecoder(strict=False)


def extract_json(text: str) -> Any | None:
    """Return the first JSON object in `text`, or None."""
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    try:
        value = _decoder.decode(stripped)
        if isinstance(value, dict):
            return value
    except ValueError:
        pass
    start = stripped.find("{")
    while start != -1:
        try:
            value, _end = _decoder.raw_decode(stripped, start)
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
        start = stripped.find("{", start + 1)
    return None
