"""Belgian municipalities by NIS code (Statbel, 2020), for validation and proximity."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "belgian_municipalities_2020.csv"


@dataclass(frozen=True)
class Municipality:
    nis: str
    name_nl: str
    arrondissement: str
    province: str
    region: str


@lru_cache
def municipalities() -> dict[str, Municipality]:
    with DATA.open(encoding="utf-8") as fh:
        return {
            row["NIS_code"]: Municipality(
                row["NIS_code"], row["municipality_NL"], row["arrondissement_NL"], row["province_NL"], row["region_NL"]
            )
            for row in csv.DictReader(fh)
        }


def lookup(nis: str) -> Municipality | None:
    return municipalities().get(nis)
