"""The README's CLI tour shows what the commands print (docs/tour.py): the check passes on the
README as committed, and fails once a shown output is edited."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("simkit_docs_tour", ROOT / "docs" / "tour.py")
tour = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = tour  # dataclasses look their module up there
spec.loader.exec_module(tour)

PLUGINS = """# t

<!-- tour -->
```
$ simkit plugins
{out}
```

<!-- tour head=1 -->
```
$ simkit run scenarios/trendsim.yaml --set clock.tick=soon
{err}
$ echo $?
{rc}
```
"""


def test_normalising_ignores_run_ids_times_and_column_widths_only():
    a = "│ wall time │ 3.7 s │ trajectory of trendsim-pa30-20261128-092447-c36e at 11-28 09:24"
    b = "│ wall time     │ 12.25 s │ trajectory of trendsim-pa30-20261204-175932-1656 at 12-04 17:59"
    assert tour.normalise(a) == tour.normalise(b)
    assert tour.normalise("trendsim-pa30-20261204-183523-1… finis…") == tour.normalise("trendsim-pa30-20261204-183958-4… finis…")
    assert tour.normalise("emotion.avg 0.5988") != tour.normalise("emotion.avg 0.5989")
    assert tour.matches(["a", "...", "d"], ["a", "b", "c", "d"]) and not tour.matches(["a", "d"], ["a", "b", "d"])


def test_a_small_readme_passes_when_true_and_fails_when_an_output_is_edited(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(PLUGINS.format(out="stale", err="", rc="0"))
    assert tour.tour(readme, check=True, say=lambda _m: None) == 3  # the plugins table, the error line, the exit code
    tour.tour(readme, say=lambda _m: None)  # regenerate
    text = readme.read_text()
    assert "simkit.plugins.trendsim:TrendSimPlugin" in text and "error: scenarios/trendsim.yaml: clock.tick" in text
    assert tour.tour(readme, check=True, say=lambda _m: None) == 0
    edited = text.replace("simkit.plugins.trendsim:TrendSimPlugin", "simkit.plugins.trendsim:TrendSim")
    readme.write_text(edited)
    said: list[str] = []
    assert tour.tour(readme, check=True, say=said.append) == 1
    assert "the output of `simkit plugins` changed" in said[0] and "TrendSim " in said[0]


@pytest.mark.slow
def test_the_readme_tour_matches_what_the_commands_print():
    said: list[str] = []
    failures = tour.tour(ROOT / "README.md", check=True, say=said.append)
    assert failures == 0, "\n\n".join(said) + "\n(regenerate with: python docs/tour.py)"
