"""The regions (learning networks, *lerende netwerken*) a project belongs to: a fixed list.

Reference data in ``shared/data/regions.csv`` (code, Dutch and English name), the same in
every service. A project is registered in one of these regions and nothing else (the
recruitment service refuses another code with a sentence); screens and reports show the
region's name from this list, never its code. History recorded before the list existed
may carry another code: it still loads, and is shown by its code in capitals.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "regions.csv"


@dataclass(frozen=True)
class Region:
    code: str
    name_nl: str
    name_en: str

    def name(self, lang: str = "nl") -> str:
        return self.name_en if lang == "en" else self.name_nl


@lru_cache
def regions() -> dict[str, Region]:
    """Every region by code, in the order of the list."""
    with DATA.open(encoding="utf-8") as fh:
        return {row["code"]: Region(row["code"], row["name_nl"], row["name_en"]) for row in csv.DictReader(fh)}


def lookup(code: str) -> Region | None:
    return regions().get(code)


def is_region(code: str) -> bool:
    return code in regions()


def region_name(code: str, lang: str = "nl") -> str:
    """The region's name in the language; an unknown (historical) code capitalised part by part."""
    region = lookup(code)
    if region is not None:
        return region.name(lang)
    return "-".join(part[:1].upper() + part[1:] for part in code.split("-"))


def unknown_region_message(code: str) -> str:
    known = ", ".join(regions())
    return f"Onbekende regio {code!r}; kies een van: {known} / Unknown region {code!r}; choose one of: {known}"
