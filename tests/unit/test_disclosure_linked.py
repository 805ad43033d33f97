"""One release per population and year (sdc/linked.py), attacked as a whole with HiGHS."""

from __future__ import annotations

import itertools

import numpy as np

from services.reporting.disclosure import DisclosurePolicy
from services.reporting.reader_attack import Cube, bounds
from services.reporting.sdc.linked import LinkedRelease, protect_period, protect_periodic, quarter_of

MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13))
POLICY = DisclosurePolicy.for_audience("coordinator")


def history(seed: int, projects: int = 6) -> tuple[dict[tuple[str, str], int], dict[str, str]]:
    rng = np.random.default_rng(seed)
    region_of = {f"p{i}": f"r{i % 2}" for i in range(projects)}
    counts = {(p, m): int(rng.poisson(4 + 6 * (i % 3))) for i, p in enumerate(region_of) for m in MONTHS}
    return counts, region_of


def attack(release: LinkedRelease, counts: dict[tuple[str, str], int], region_of: dict[str, str],
           staff_of: str | None = None) -> list[tuple]:
    """Every place of the release a reader gets (the rest: hidden) as one cube; the narrow ones.

    ``staff_of``: the reader is staff of that one project and gets its places only."""
    if staff_of is not None:
        return [f for p in [staff_of] for f in _attack(release, counts, region_of, [("project", p, [p])])]
    projects = sorted(region_of)
    units = [("project", p, [p]) for p in projects]
    units += [("region", r, [p for p in projects if region_of[p] == r]) for r in sorted(set(region_of.values()))]
    units += [("flanders", "*", list(projects))]
    return _attack(release, counts, region_of, units)


def _attack(release: LinkedRelease, counts: dict[tuple[str, str], int], region_of: dict[str, str],
            units: list[tuple[str, str, list[str]]]) -> list[tuple]:
    projects = tuple(sorted(region_of))
    cube = Cube(("project", "month"), (projects, MONTHS))
    periods = [(m, [m]) for m in MONTHS] + [(q, [m for m in MONTHS if quarter_of(m) == q])
                                            for q in sorted({quarter_of(m) for m in MONTHS})] + [("2025", list(MONTHS))]
    for (level, unit, members), (period, months) in itertools.product(units, periods):
        true = sum(counts.get((p, m), 0) for p in members for m in months)
        cell = release.cell((level, unit, period))
        cube.add(cube.box(project=members, month=months), cell.value, f"{level} {unit} {period}", float(true))
    found = []
    for box, (low, high) in bounds(cube).items():
        where, true = cube.hidden[box]
        if high - low < 10 - 1e-6 or (0 < true < 10 and high < 10 - 1e-6):
            found.append((where, true, low, high))
    return found


def test_the_issue_s_quarter_cannot_be_taken_apart() -> None:
    # Q2: April 7, May 27, June 35 in a region of two projects
    counts = {("p1", "2025-04"): 5, ("p2", "2025-04"): 2, ("p1", "2025-05"): 20, ("p2", "2025-05"): 7,
              ("p1", "2025-06"): 30, ("p2", "2025-06"): 5}
    region_of = {"p1": "r1", "p2": "r1", "p3": "r2"}
    counts.update({("p3", m): 12 for m in MONTHS})
    release = protect_periodic(counts, months=MONTHS, region_of=region_of, policy=POLICY, project_staff=False)
    april, may, june = (release.cell(("region", "r1", m)) for m in ("2025-04", "2025-05", "2025-06"))
    quarter = release.cell(("region", "r1", "2025-Q2"))
    assert april.suppressed
    assert quarter.suppressed or may.suppressed or june.suppressed  # else April = Q2 − May − June
    assert not attack(release, counts, region_of)


def test_project_figures_above_the_project_are_released_per_year_only() -> None:
    counts, region_of = history(3)
    release = protect_periodic(counts, months=MONTHS, region_of=region_of, policy=POLICY, project_staff=False)
    assert all(release.cell(("project", p, m)).suppressed for p in region_of for m in MONTHS)
    assert all(release.cell(("project", p, "2025-Q1")).suppressed for p in region_of)
    assert any(not release.cell(("project", p, "2025")).suppressed for p in region_of)


def test_zeros_are_hidden_like_small_counts() -> None:
    counts = {("p1", m): 0 if m == "2025-03" else 30 for m in MONTHS} | {("p2", m): 25 for m in MONTHS}
    region_of = {"p1": "r1", "p2": "r1"}
    release = protect_periodic(counts, months=MONTHS, region_of=region_of, policy=POLICY, project_staff=True)
    assert release.cell(("project", "p1", "2025-03")).suppressed
    assert not attack(release, counts, region_of, staff_of="p1")


def test_random_histories_leave_nothing_narrow() -> None:
    for seed in range(4):
        counts, region_of = history(seed)
        for staff in (False, True):
            release = protect_periodic(counts, months=MONTHS, region_of=region_of, policy=POLICY,
                                       project_staff=staff)
            readers = list(region_of) if staff else [None]
            for staff_of in readers:
                assert not attack(release, counts, region_of, staff_of), (seed, staff_of)


def test_counts_over_a_period_get_a_release_of_their_own() -> None:
    region_of = {"p1": "r1", "p2": "r1", "p3": "r2", "p4": "r2"}
    release = protect_period({"p1": 14, "p2": 3, "p3": 25, "p4": 30}, period="2025-Q1", region_of=region_of,
                             policy=POLICY, project_staff=False, projects_released=False)
    assert release.cell(("region", "r2", "2025-Q1")).value == 55
    assert all(release.cell(("project", p, "2025-Q1")).suppressed for p in region_of)
    year = protect_period({"p1": 14, "p2": 3, "p3": 25, "p4": 30}, period="2025", region_of=region_of,
                          policy=POLICY, project_staff=False, projects_released=True)
    assert year.cell(("project", "p2", "2025")).suppressed and year.cell(("project", "p1", "2025")).suppressed
