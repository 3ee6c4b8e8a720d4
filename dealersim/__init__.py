"""dealersim: an agent-based simulation of a copier dealership launching managed services.

The main entry points are :func:`simulate` (one run, with its story), :class:`DealershipModel`
(a plain ``mesa.Model``), :class:`Params` (the one parameter source) and the strategy presets.
"""

from dealersim.model.dealership import DealershipModel
from dealersim.model.params import Params
from dealersim.model.results import RunResult, simulate
from dealersim.model.strategies import make_params, strategy_names

__all__ = [
    "DealershipModel",
    "Params",
    "RunResult",
    "make_params",
    "simulate",
    "strategy_names",
]
