"""The ``dealersim`` command line (one module per command group; see :mod:`dealersim.cli.main`)."""

from dealersim.cli.main import main

__all__ = ["main"]
