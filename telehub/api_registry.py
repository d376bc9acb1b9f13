"""The list of API operations mounted in one app, for the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telehub.api import Operation


@dataclass
class ApiRegistry:
    """Every operation the app serves, in mounting order."""

    operations: list[Operation] = field(default_factory=list)
