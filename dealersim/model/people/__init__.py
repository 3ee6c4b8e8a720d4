"""The staff of the dealership, as Mesa agents."""

from dealersim.model.people.hardware_rep import HardwareRep
from dealersim.model.people.owner import Owner
from dealersim.model.people.sales_manager import SalesManager
from dealersim.model.people.specialist import Specialist

__all__ = ["HardwareRep", "Owner", "SalesManager", "Specialist"]
