"""The optional extras: the libraries each one brings, and the one line when one is missing.

The core install (``pip install dealersim``) runs, compares, sweeps on the local pool and
writes the report. The heavier libraries come with an extra (``pip install 'dealersim[all]'``
for every one of them)::

    calibrate   pyabc (ABC-SMC), EMA Workbench and scikit-learn (``dealersim discover``)
    advise      Optuna (``dealersim advise``)
    dask        Dask distributed (``--scheduler``)
    dashboard   Solara and its Vuetify widgets (``dealersim dashboard``)
    ema         EMA Workbench (``dealersim.adapters.ema``)

A module that needs one imports it inside the function that uses it, after :func:`need`, so
importing the package never needs an extra.
"""

from __future__ import annotations

import importlib.util

EXTRAS: dict[str, tuple[str, ...]] = {
    "calibrate": ("pyabc", "ema_workbench", "sklearn"),
    "advise": ("optuna",),
    "dask": ("distributed",),
    "dashboard": ("solara", "ipyvue", "ipyvuetify"),
    "ema": ("ema_workbench",),
}
"""Each extra of ``pyproject.toml`` and the top-level modules it provides."""


class MissingExtra(ImportError):
    """An optional extra is not installed; the message is one line ending in the pip command."""


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (empty when it is installed)."""
    gone = []
    for module in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            gone.append(module)
    return gone


def need(extra: str, who: str) -> None:
    """Return if ``extra`` is installed, else raise :class:`MissingExtra`.

    Args:
        extra: A key of :data:`EXTRAS`.
        who: What needs it, as the user called it (``"dealersim calibrate"``, ``"--scheduler"``).

    Raises:
        MissingExtra: ``<who> needs the optional extra '<extra>': pip install
            'dealersim[<extra>]'``.
    """
    if missing(extra):
        raise MissingExtra(f"{who} needs the optional extra {extra!r}: "
                           f"pip install 'dealersim[{extra}]'")
