"""Unit economics of the managed services: what a contract costs and what it leaves us.

* **Managed print replaces** an account's service and supplies billing; the lease stays. Its
  monthly price is that billing on the day the account signs, less ``mps_discount``
  (:func:`mps_price_share`), so it never exceeds what the account paid. The contract costs what
  the service and supplies cost to deliver, so its gross margin on its price is
  :func:`mps_margin`.
* **Cannibalisation**: on an account we hold, the service and supplies gross profit the
  contract replaces is lost at ``service_margin`` (:func:`replaced_margin`), not at the blended
  hardware margin.
* **Managed IT is priced per seat** (``mit_fee_per_seat`` times the account's seats, drawn when
  the market is created), and leaves ``managed_margin`` of its fee: the delivery cost
  (:func:`mit_delivery_cost_per_seat`) grows with the seats.
* **Overhead**: ``managed_overhead_share`` of managed revenue is the selling and
  service-management cost of running the managed business, booked every month.

See docs/money.md for the sources of each number.
"""

from __future__ import annotations

import numpy as np

from dealersim.model.params import Params


def mps_price_share(p: Params) -> float:
    """Managed print's monthly price as a share of the account's lease-and-service billing.

    The service and supplies part (``service_share``) of the billing, less the discount.
    """
    return (1.0 - p.mps_discount) * p.service_share


def mps_price_ratio(p: Params) -> float:
    """Managed print's price over the service and supplies billing it replaces (<= 1)."""
    return 1.0 - p.mps_discount


def mps_margin(p: Params) -> float:
    """Managed print's gross margin on its price.

    The contract delivers the same service and supplies, which cost ``1 - service_margin`` of
    the billing they replace; the price is ``1 - mps_discount`` of that billing, so the margin
    is ``(service_margin - mps_discount) / (1 - mps_discount)`` (negative when the discount
    exceeds the service margin).
    """
    return (p.service_margin - p.mps_discount) / (1.0 - p.mps_discount)


def replaced_margin(p: Params, hardware_margin: float | np.ndarray) -> float | np.ndarray:
    """The gross margin at which the replaced service and supplies are lost.

    ``service_margin``, but never more than the account's whole blended hardware margin could
    hold (``hardware_margin / service_share``): after years of price war the lease part cannot
    be left with a negative margin by the service taken out of it.
    """
    if p.service_share <= 0.0:
        return p.service_margin
    if isinstance(hardware_margin, float):  # one day's margin: plain floats, the same value
        return min(p.service_margin, max(0.0, hardware_margin) / p.service_share)
    return np.minimum(p.service_margin, np.maximum(0.0, hardware_margin) / p.service_share)


def mit_delivery_cost_per_seat(p: Params) -> float:
    """Monthly cost of delivering managed IT to one seat (help desk, technicians, tools)."""
    return p.mit_fee_per_seat * (1.0 - p.managed_margin)
