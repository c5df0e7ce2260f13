"""simkit: an engine for LLM-driven social simulation."""

__version__ = "0.1.0"
