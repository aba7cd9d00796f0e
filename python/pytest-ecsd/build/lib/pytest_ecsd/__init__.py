"""pytest fixtures and a client for ecsd, a local Elastic Cloud Server (ECS) endpoint."""

from .client import EFFECTS, OPERATIONS, Ecsd, EcsdError, FaultRule, effect
from .server import EcsdNotFound, EcsdProcess, find_binary

__all__ = ["EFFECTS", "OPERATIONS", "Ecsd", "EcsdError", "EcsdNotFound", "EcsdProcess", "FaultRule", "effect",
           "find_binary"]
