"""The staff of the dealership, as Mesa agents."""

from dealersim.people.hardware_rep import HardwareRep
from dealersim.people.owner import Owner
from dealersim.people.sales_manager import SalesManager
from dealersim.people.specialist import Specialist

__all__ = ["HardwareRep", "Owner", "SalesManager", "Specialist"]
