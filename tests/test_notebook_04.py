"""Notebook 04 executes top to bottom (tiny sizes) and is stored without outputs."""

from __future__ import annotations

import pytest

from notebooks import executed, stored_without_outputs

NAME = "04_calibration.ipynb"


def test_notebook_is_stored_without_outputs():
    stored_without_outputs(NAME)


@pytest.mark.notebook
def test_notebook_executes():
    last, texts = executed(NAME)
    assert last == "True"  # two workers give the same posterior as one
    assert "story: " in texts
    # the two robustness sentences: on money (may be all ties in a year) and on the first year
    assert texts.count("of the parameter sets that reproduce the story") == 2
    assert " beats " in texts or "do equally well" in texts
