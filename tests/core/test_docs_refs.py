"""Docs point only at files this repository has: every repository path a README names
exists, no doc or docstring names the design notes or research notes that live outside the
repository, and the LICENSE pyproject.toml names is there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("simkit/", "scenarios/", "personas/", "bench/", "docs/", "tests/", "examples/")
OUTSIDE = ("DESIGN.md", "FIDELITY.md", "STYLE.md", "trendsim_cdi.md", "characterbox_personaarena.md", "peers.md",
           "peers_2026-12.md", "../shared/", "research notes", "research note ")


def tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / p for p in out.split()]


def test_every_repository_path_a_readme_names_exists():
    missing = []
    for doc in tracked("*.md"):
        for ref in re.findall(r"`([^`\s]+)`", doc.read_text(encoding="utf-8")):
            path = ref.split(":")[0].rstrip(".,;")
            if not path.startswith(TOP) or any(c in path for c in "*<>{}[]$") or path.endswith("..."):
                continue
            if not (ROOT / path).exists():
                missing.append(f"{doc.relative_to(ROOT)}: {ref}")
    assert missing == []


def test_no_doc_or_docstring_points_outside_the_repository():
    found = []
    for f in tracked("*.md", "*.py", "*.yaml", "*.j2"):
        if f.name == Path(__file__).name:
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        found += [f"{f.relative_to(ROOT)}: {name}" for name in OUTSIDE if name in text]
    assert found == []


def test_license_file_is_the_apache_license():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
