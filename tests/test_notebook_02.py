"""Notebook 02 executes headlessly and its page renders as a Jupyter widget."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NB = Path(__file__).resolve().parents[1] / "notebooks" / "02_owner_policy_explorer.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(180)]


def test_notebook_02_executes_and_renders_the_page(tmp_path):
    nb = nbformat.read(NB, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}},
                            store_widget_state=True)
    client.execute(cwd=str(tmp_path))  # the native python3 kernel: this venv's ipykernel
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"], outputs
    views = [o for o in code[0].outputs if WIDGET_MIME in o.get("data", {})]
    assert views, f"the page did not render as a widget: {code[0].outputs}"
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    assert views[0]["data"][WIDGET_MIME]["model_id"] in models
    names = {m.get("model_name") for m in models.values()}
    assert {"SelectModel", "SliderModel"} & names or any("Select" in n for n in names if n)
    text = "".join(o.get("text", "") for o in code[1].outputs)
    assert "overlay ->" in text and "planned ->" in text
