"""Shared helpers of the notebook tests: read a notebook, check it is stored clean, run it."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parents[1] / "notebooks"


def stored_without_outputs(name: str) -> None:
    """Assert that ``notebooks/name`` is stored with no outputs and no execution counts."""
    nb = nbformat.read(FOLDER / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def executed(name: str, timeout: int = 300) -> tuple[str, str]:
    """Run ``notebooks/name`` top to bottom; return its last output and all printed text."""
    nb = nbformat.read(FOLDER / name, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(FOLDER)}}).execute()
    last = nb.cells[-1].outputs[0]["data"]["text/plain"]
    texts = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                    for o in c.outputs)
    return last, texts
