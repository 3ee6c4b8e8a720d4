"""Notebook 03 executes top to bottom (tiny sizes) and is stored without outputs."""

from __future__ import annotations

import pytest

from notebooks import executed, stored_without_outputs

NAME = "03_sweeps_and_sensitivity.ipynb"


def test_notebook_is_stored_without_outputs():
    stored_without_outputs(NAME)


@pytest.mark.notebook
def test_notebook_executes():
    last, texts = executed(NAME)
    assert last == "True"  # the LocalCluster rows equal the local-pool rows
    assert "tipping_point grid" in texts
