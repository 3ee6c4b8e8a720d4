"""MkDocs hooks of the documentation site (``mkdocs.yml`` names this file under ``hooks``).

**The notebooks run top to bottom before the site is built.** At start-up (once per
``mkdocs build`` or ``mkdocs serve``) it executes every ``notebooks/*.ipynb`` with its working
directory in ``notebooks/`` (as a reader running it would) and writes the executed copies to
``build/notebooks/``, which mkdocs-jupyter renders with their outputs. A cell that raises
stops the build with the notebook, the cell and the error. With ``DEALERSIM_DOCS_NO_EXECUTE=1``
the notebooks are copied without running them, for a quick look at the other pages (never in
``make docs``).

The notebooks are stored without outputs. A notebook whose first code cell is tagged
``parameters`` may be run with other values for the site (:data:`SITE_PARAMETERS`): the
consultant's walkthrough compares 200 paired replicates, which takes the better part of an hour
on two cores; the site shows it with fewer, and the rendered cell shows the values used. What a
notebook writes goes where it would for a reader (``notebooks/out/``, ignored by git).

**Sphinx roles are dropped from the API pages.** The docstrings cross-reference with Sphinx roles
(``:func:`simulate```), which Markdown renders as the role's name followed by the code: the
rendered pages keep the code alone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
from mkdocs.exceptions import PluginError
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks"
TARGET = ROOT / "build" / "notebooks"
CELL_TIMEOUT = 900
"""Seconds one cell may run before the build fails."""

SITE_PARAMETERS = {
    "01_failed_vs_planned.ipynb": {"REPLICATES": 30, "BLAME_REPLICATES": 2},
}
"""Values that the site runs a notebook with, set in its ``parameters`` cell (each name must
be assigned there); the cell then says so in a comment."""

SPHINX_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):(?=<code>)")
"""A Sphinx cross-reference role left in front of the code it names, as the API pages render the
docstrings' ``:class:`Name``` (the code stays, the role goes)."""

log = logging.getLogger("mkdocs.hooks.docs")


def with_values(source: str, values: dict[str, object]) -> str:
    """The parameters cell ``source`` with each ``NAME = ...`` line set to ``values[NAME]``.

    Raises:
        PluginError: If a name is not assigned on a line of its own in the cell.
    """
    lines = source.splitlines()
    for name, value in values.items():
        pattern = re.compile(rf"^{re.escape(name)}\s*=")
        hits = [i for i, line in enumerate(lines) if pattern.match(line)]
        if len(hits) != 1:
            raise PluginError(f"parameters cell: {name} is assigned {len(hits)} times; "
                              "expected once")
        old = lines[hits[0]].split("=", 1)[1].strip()
        lines[hits[0]] = f"{name} = {value!r}  # on this site; {old} for the full study"
    return "\n".join(lines)


def execute(source: Path, target: Path) -> float:
    """Run the notebook ``source`` and write the executed copy to ``target``.

    Returns:
        The seconds it took.

    Raises:
        PluginError: If a cell raised (names the notebook and the error): the build stops.
    """
    nb = nbformat.read(source, as_version=4)
    site_values = SITE_PARAMETERS.get(source.name)
    if site_values:
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = with_values(cell.source, site_values)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(source.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        raise PluginError(f"notebook {source.name} failed: {exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return time.perf_counter() - start


def on_startup(command: str, dirty: bool) -> None:
    """Execute every notebook into ``build/notebooks/`` (MkDocs calls this once)."""
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    if os.environ.get("DEALERSIM_DOCS_NO_EXECUTE"):
        for source in sorted(SOURCE.glob("*.ipynb")):
            shutil.copyfile(source, TARGET / source.name)
        log.warning("notebooks copied without running them (DEALERSIM_DOCS_NO_EXECUTE)")
        return
    for source in sorted(SOURCE.glob("*.ipynb")):
        seconds = execute(source, TARGET / source.name)
        log.info("executed %s in %.0f s", source.name, seconds)


def on_page_content(html: str, page: object, config: object, files: object) -> str:
    """Drop the Sphinx roles in front of inline code (see :data:`SPHINX_ROLE`)."""
    return SPHINX_ROLE.sub("", html)
