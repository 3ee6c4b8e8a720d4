"""The owner's dashboard: a Solara page to try launch policies on your own dealership.

``state`` holds the pure logic (controls from ``Params`` metadata, runs with daily replay
snapshots, headline cards and their change against a baseline, replicates), ``words`` the
plain words (friendly names, units, allowed ranges, glossary), ``charts`` builds ECharts
options (data the browser draws), ``components`` and ``app`` build the page, and
``dealersim.cli.dashboard`` serves it (``dealersim dashboard``); ``benchmarks/dashboard.py`` (in
the repository, not installed) measures it in a real browser.
"""

ADVICE_ENV = "DEALERSIM_ADVICE"
"""The environment variable through which ``dealersim dashboard --advice DIR`` hands the server
process a ``dealersim advise`` output folder (its three things are shown on the page)."""
