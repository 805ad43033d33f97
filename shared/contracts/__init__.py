"""Public event contracts of every service. Importing this package registers them all."""

from shared.contracts import followup, matching, recruitment  # noqa: F401
from shared.contracts.common import AgeBand, TargetGroup, age_band

__all__ = ["AgeBand", "TargetGroup", "age_band", "followup", "matching", "recruitment"]
