"""The Solara app served by ``dealersim dashboard`` (``solara run dealersim.dashboard.app``).

``dealersim dashboard --advice DIR`` hands the advice folder to this server process in the
environment variable :data:`ADVICE_ENV`; its three things are read once per page.
"""

from __future__ import annotations

import os

import solara

from dealersim.dashboard import ADVICE_ENV
from dealersim.dashboard.components import Dashboard
from dealersim.outputs.advice import read_three_things


def advice_sentences() -> list[str]:
    """The three things of the advice folder in :data:`ADVICE_ENV` (none: an empty list).

    The command checked the folder before starting the server; a folder that became
    unreadable since shows nothing rather than an error.
    """
    folder = os.environ.get(ADVICE_ENV, "")
    if not folder:
        return []
    try:
        return read_three_things(folder)
    except ValueError:
        return []


@solara.component
def Page():
    """The page: the owner's dashboard."""
    solara.Title("dealersim: the owner's dashboard")
    advice = solara.use_memo(advice_sentences, [])
    Dashboard(advice=advice)
