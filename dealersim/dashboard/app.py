"""The Solara app served by ``dealersim dashboard`` (``solara run dealersim.dashboard.app``)."""

from __future__ import annotations

import solara

from dealersim.dashboard.components import Dashboard


@solara.component
def Page():
    """The page: the owner's dashboard."""
    solara.Title("dealersim: the owner's dashboard")
    Dashboard()
