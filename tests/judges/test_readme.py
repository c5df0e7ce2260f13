"""The package README lists every module and every record key."""

from __future__ import annotations

from pathlib import Path

import simkit.judges
from simkit.judges import RECORD_KEYS

PACKAGE = Path(simkit.judges.__file__).parent
README = (PACKAGE / "README.md").read_text()


def test_every_module_is_in_the_file_table():
    modules = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert [m for m in modules if f"| `{m}` |" not in README] == []


def test_every_record_key_is_documented():
    assert [k for k in RECORD_KEYS if f"| `{k}` |" not in README] == []


def test_every_exported_name_exists():
    assert all(hasattr(simkit.judges, name) for name in simkit.judges.__all__)
