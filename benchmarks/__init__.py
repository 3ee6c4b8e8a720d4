"""The benchmarks behind ``make bench`` (``python -m benchmarks.run``): speed and memory figures.

A plain folder of the repository, not part of the installed package: ``run`` times the model,
``compare`` and the per-run costs, ``sweep`` the sweep engine and its driver memory, and
``dashboard`` the dashboard in a real Chromium. Run them from the repository root.
"""
