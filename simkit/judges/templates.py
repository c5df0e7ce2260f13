"""The judges' prompt templates (`simkit/judges/prompts/*.j2`), loaded once."""

from __future__ import annotations

from pathlib import Path

from simkit.agents.prompts import PromptLibrary

PROMPTS = PromptLibrary(Path(__file__).parent / "prompts")
