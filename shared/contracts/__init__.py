"""Public event contracts of every service. Importing this package registers them all."""

from shared.contracts import audit, followup, matching, recruitment, staff  # noqa: F401
from shared.contracts.common import AgeBand, TargetGroup, age_band

__all__ = ["AgeBand", "TargetGroup", "age_band", "audit", "followup", "matching", "recruitment", "staff"]
