"""examples/notebook.ipynb runs top to bottom in a Jupyter kernel (nbclient)."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.research.conftest import ROOT


def test_the_example_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMKIT_NOTEBOOK_DB", str(tmp_path / "notebook.db"))
    nb = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = {i: c.get("outputs", []) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for outs in outputs.values() for o in outs)
    assert "total: " in text  # the estimate
    assert "after tick 30" in text and "first differing event: tick 31" in text  # the branch and its divergence
    assert any("image/png" in o.get("data", {}) for outs in outputs.values() for o in outs)  # the plot
    assert not any(o.get("output_type") == "error" for outs in outputs.values() for o in outs)
