"""SQLite trajectories: the schema, the single writer, and readers for resume/replay/export."""

from simkit.store.reader import RunReader, open_db
from simkit.store.writer import RunWriter, TickBuffer

__all__ = ["RunReader", "RunWriter", "TickBuffer", "open_db"]
