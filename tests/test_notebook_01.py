"""The consultant's walkthrough notebook runs end to end (tiny replicate counts)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from notebooks import stored_without_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_failed_vs_planned.ipynb"


def test_notebook_is_stored_without_outputs():
    stored_without_outputs(NOTEBOOK.name)


@pytest.mark.notebook
def test_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = (f"SEED = 1\nYEARS = 1\nREPLICATES = 3\nBLAME_REPLICATES = 1\nWORKERS = 1\n"
                     f"OUT = {str(tmp_path / 'nb')!r}")
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "Launch succeeded" in text and "Verdict" in text
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == 8
    assert (tmp_path / "nb" / "side_by_side.png").exists()
