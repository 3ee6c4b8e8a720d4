"""Adapters that expose the dealership model to other people's research tools.

Each adapter is an optional extra: importing ``dealersim.adapters`` needs nothing beyond the core
dependencies; ``dealersim.adapters.ema`` needs ``pip install 'dealersim[ema]'``.
"""
