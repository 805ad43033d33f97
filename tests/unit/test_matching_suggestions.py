"""Suggestions: property tests against an independent statement of the hard constraints.

No suggestion may ever break a hard constraint (same project, available volunteer with
room, consent, target group, a common language, travel range, not tried before), every
feasible volunteer must be suggested, and the vectorised score matrix must agree with
the explained pair-by-pair score.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.contracts.common import Interest, TargetGroup, TravelRange
from shared.contracts.matching import MatchingWeights
from shared.municipalities import lookup
from services.matching.suggestions import (
    CRITERIA,
    SLOTS,
    Candidate,
    Scoring,
    Seeker,
    distance_class,
    evaluate,
    excluded,
    rank,
    score_matrix,
    top_k,
    violations,
)
from services.matching.vocabularies import LABELS, all_vocabularies

TODAY = date(2026, 11, 21)
PROPS = settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Antwerpen, Aartselaar (same arrondissement), Turnhout (same province), Gent, Deinze, Brussel,
# Anderlecht (Brussels: one "province"), Hasselt, and a code no municipality has.
PLACES = ["11002", "11001", "13040", "44021", "44083", "21004", "21001", "71022", "99998"]
LANGUAGES = ["nl", "fr", "ar", "en", "tr"]
PROJECTS = ["p-a", "p-b"]


def oracle_class(a: str, b: str) -> int:
    """The NIS hierarchy, stated again without the module under test."""
    if a == b:
        return 0
    ma, mb = lookup(a), lookup(b)
    if ma is None or mb is None:
        return 3
    if ma.arrondissement == mb.arrondissement:
        return 1
    pa = ma.province if ma.province not in ("", "0") else ma.arrondissement
    pb = mb.province if mb.province not in ("", "0") else mb.arrondissement
    return 2 if pa == pb else 3


REACH = {"same_municipality": 0, "same_arrondissement": 1, "same_province": 2, "anywhere": 3}


def allowed(s: Seeker, c: Candidate) -> bool:
    return (s.project_id == c.project_id and c.available and c.capacity_left > 0 and s.consent
            and s.target_group in c.target_groups and bool(s.languages & c.languages)
            and oracle_class(s.municipality_nis, c.municipality_nis) <= REACH[c.travel]
            and c.volunteer_id not in s.tried)


def subset(items: list[str], min_size: int = 0) -> st.SearchStrategy[frozenset[str]]:
    """A subset as a bit mask: cheap to draw and to shrink."""
    return st.integers(min_value=0, max_value=2 ** len(items) - 1).map(
        lambda mask: frozenset(x for k, x in enumerate(items) if mask >> k & 1)).filter(lambda s: len(s) >= min_size)


TARGET_GROUPS = subset([t.value for t in TargetGroup])
SOME_LANGUAGES = subset(LANGUAGES, 1)
INTERESTS = subset([i.value for i in Interest][:6])
SOME_SLOTS = subset(list(SLOTS[:6]))
PLACE = st.sampled_from(PLACES)
PROJECT = st.sampled_from(PROJECTS)
DAYS = st.integers(min_value=0, max_value=400)
CANDIDATE = st.tuples(PROJECT, st.booleans(), TARGET_GROUPS, SOME_LANGUAGES, INTERESTS, SOME_SLOTS, PLACE,
                      st.sampled_from([t.value for t in TravelRange]), st.integers(min_value=0, max_value=3),
                      st.none() | DAYS)
SEEKER = st.tuples(PROJECT, st.sampled_from([t.value for t in TargetGroup]), SOME_LANGUAGES, INTERESTS, SOME_SLOTS,
                   PLACE, st.sampled_from([True, True, False]), DAYS, st.integers(min_value=0, max_value=2 ** 12 - 1))


@st.composite
def candidates(draw: st.DrawFn, n: int) -> list[Candidate]:
    out = []
    for j, (project, available, groups, langs, interests, slots, place, travel, room, since) in enumerate(
            draw(st.lists(CANDIDATE, min_size=n, max_size=n))):
        out.append(Candidate(
            volunteer_id=f"v-{j}", project_id=project, available=available, target_groups=groups, languages=langs,
            interests=interests, availability=slots, municipality_nis=place, travel=travel, capacity_left=room,
            available_since=None if since is None else TODAY - timedelta(days=since)))
    return out


@st.composite
def seekers(draw: st.DrawFn, n: int, volunteers: int) -> list[Seeker]:
    out = []
    for i, (project, group, langs, interests, slots, place, consent, waited, tried) in enumerate(
            draw(st.lists(SEEKER, min_size=n, max_size=n))):
        out.append(Seeker(
            participant_id=f"pt-{i}", project_id=project, target_group=group, languages=langs, interests=interests,
            availability=slots, municipality_nis=place, consent=consent, waiting_since=TODAY - timedelta(days=waited),
            tried=frozenset(f"v-{j}" for j in range(volunteers) if tried >> j & 1)))
    return out


weights_strategy = st.builds(
    MatchingWeights, **{name: st.floats(min_value=0, max_value=10, allow_nan=False) for name in CRITERIA}
).filter(lambda w: sum(w.model_dump().values()) > 0)


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[Seeker], list[Candidate], Scoring]:
    m = draw(st.integers(min_value=0, max_value=12))
    pool = draw(candidates(m))
    people = draw(seekers(draw(st.integers(min_value=1, max_value=6)), m))
    scoring = Scoring(draw(weights_strategy), TODAY, draw(st.integers(min_value=1, max_value=365)))
    return people, pool, scoring


@PROPS
@given(instances())
def test_no_suggestion_ever_breaks_a_hard_constraint(instance: tuple[list[Seeker], list[Candidate], Scoring]) -> None:
    people, pool, scoring = instance
    for seeker in people:
        ranked = rank(seeker, pool, scoring)
        by_id = {c.volunteer_id: c for c in pool}
        for suggestion in ranked:
            assert allowed(seeker, by_id[suggestion.volunteer_id]), suggestion
        # ... and nobody who may be proposed is left out
        assert {s.volunteer_id for s in ranked} == {c.volunteer_id for c in pool if allowed(seeker, c)}
        assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
        # every exclusion names at least one reason, and only the excluded are listed
        assert {v for v, why in excluded(seeker, pool) if why} == {c.volunteer_id for c in pool if not allowed(seeker, c)}


@PROPS
@given(instances())
def test_the_score_matrix_agrees_with_the_explained_scores(instance: tuple[list[Seeker], list[Candidate], Scoring]) -> None:
    people, pool, scoring = instance
    scores, ok = score_matrix(people, pool, scoring)
    assert scores.shape == ok.shape == (len(people), len(pool))
    for i, seeker in enumerate(people):
        for j, candidate in enumerate(pool):
            assert bool(ok[i, j]) == allowed(seeker, candidate) == (not violations(seeker, candidate))
            explained = evaluate(seeker, candidate, scoring)
            assert scores[i, j] == pytest.approx(explained.score, abs=1e-12)
            assert 0.0 <= explained.score <= 1.0 + 1e-12
            assert sum(c.contribution for c in explained.criteria) == pytest.approx(explained.score, abs=1e-9)
    k = 3
    for seeker, best in zip(people, top_k(people, pool, scoring, k), strict=True):
        assert [s.volunteer_id for s in best] == [s.volunteer_id for s in rank(seeker, pool, scoring, limit=k)]


@PROPS
@given(instances(), st.floats(min_value=0.1, max_value=10))
def test_scaling_every_weight_changes_no_score(instance: tuple[list[Seeker], list[Candidate], Scoring], factor: float) -> None:
    people, pool, scoring = instance
    scaled = Scoring(MatchingWeights(**{k: min(10.0, v * factor) for k, v in scoring.weights.model_dump().items()}),
                     scoring.today, scoring.horizon_days)
    if any(v * factor > 10 for v in scoring.weights.model_dump().values()):
        return  # capped: not a pure scaling
    a, _ = score_matrix(people, pool, scoring)
    b, _ = score_matrix(people, pool, scaled)
    assert np.allclose(a, b, atol=1e-9)


def seeker(**overrides: object) -> Seeker:
    base: dict[str, object] = dict(participant_id="pt-1", project_id="p-a", target_group="family",
                                   languages=frozenset({"nl", "ar"}), interests=frozenset({"cooking", "walking"}),
                                   availability=frozenset({"mon-evening", "sat-morning"}), municipality_nis="11002",
                                   consent=True, waiting_since=TODAY - timedelta(days=90))
    base.update(overrides)
    return Seeker(**base)  # type: ignore[arg-type]


def volunteer(**overrides: object) -> Candidate:
    base: dict[str, object] = dict(volunteer_id="v-1", project_id="p-a", available=True,
                                   target_groups=frozenset({"family", "child"}), languages=frozenset({"ar", "fr"}),
                                   interests=frozenset({"cooking", "music"}), availability=frozenset({"mon-evening"}),
                                   municipality_nis="11001", travel="same_province", capacity_left=1,
                                   available_since=TODAY - timedelta(days=45))
    base.update(overrides)
    return Candidate(**base)  # type: ignore[arg-type]


SCORING = Scoring(MatchingWeights(), TODAY, 180)


def test_every_criterion_is_explained_in_dutch_and_english() -> None:
    s = evaluate(seeker(), volunteer(), SCORING)
    explained = {c.code: (c.nl, c.en) for c in s.criteria}
    assert set(explained) == set(CRITERIA)
    assert explained["interests"] == ("1 gedeelde interesse(s): koken", "1 shared interest(s): cooking")
    assert explained["availability"] == ("Beiden vrij op 1 moment(en): maandag avond", "Both free at 1 time(s): Monday evening")
    assert explained["distance"] == ("Zelfde arrondissement (Antwerpen)", "Same arrondissement (Antwerpen)")
    assert explained["volunteer_waiting"][1] == "The buddy has been waiting 45 day(s) for a duo"
    assert explained["participant_waiting"][0] == "De deelnemer wacht al 90 dag(en)"
    # weights 3/3/2/1/1: interests 1/min(2,2)=.5, slots 1/1=1, distance 2/3, waits 45/180 and 90/180
    assert s.score == pytest.approx((3 * 0.5 + 3 * 1 + 2 * (2 / 3) + 1 * 0.25 + 1 * 0.5) / 10)


@pytest.mark.parametrize(("change", "code"), [
    (dict(project_id="p-b"), "same_project"), (dict(available=False), "volunteer_available"),
    (dict(capacity_left=0), "capacity"), (dict(target_groups=frozenset({"youth"})), "target_group"),
    (dict(languages=frozenset({"tr"})), "common_language"),
    (dict(municipality_nis="44021"), "travel_range"), (dict(municipality_nis="13040", travel="same_arrondissement"), "travel_range"),
])
def test_each_hard_constraint_is_named(change: dict[str, object], code: str) -> None:
    found = violations(seeker(), volunteer(**change))
    assert [v.code for v in found] == [code]
    assert found[0].nl and found[0].en and " / " in found[0].message


def test_consent_and_an_earlier_failure_exclude_a_pair() -> None:
    assert [v.code for v in violations(seeker(consent=False), volunteer())] == ["consent"]
    assert [v.code for v in violations(seeker(tried=frozenset({"v-1"})), volunteer())] == ["tried_before"]


def test_distance_classes_follow_the_nis_hierarchy() -> None:
    assert distance_class("11002", "11002") == 0
    assert distance_class("11002", "11001") == 1
    assert distance_class("11002", "13040") == 2
    assert distance_class("11002", "44021") == 3
    assert distance_class("21004", "21001") == 1  # Brussels: one arrondissement
    assert distance_class("99998", "11002") == 3
    assert not violations(seeker(municipality_nis="44021"), volunteer(municipality_nis="11002", travel="anywhere"))


def test_who_waits_longest_goes_first_when_all_else_is_equal() -> None:
    early = volunteer(volunteer_id="v-early", available_since=TODAY - timedelta(days=100))
    late = volunteer(volunteer_id="v-late", available_since=TODAY - timedelta(days=5))
    assert [s.volunteer_id for s in rank(seeker(), [late, early], SCORING)] == ["v-early", "v-late"]
    no_fairness = Scoring(MatchingWeights(volunteer_waiting=0, participant_waiting=0), TODAY, 180)
    # equal scores: the tie still goes to who waited longest
    assert [s.volunteer_id for s in rank(seeker(), [late, early], no_fairness)] == ["v-early", "v-late"]
    longer = evaluate(seeker(waiting_since=TODAY - timedelta(days=300)), late, SCORING).score
    assert longer > evaluate(seeker(), late, SCORING).score


def test_every_vocabulary_code_has_dutch_and_english_labels() -> None:
    for vocabulary, labels in LABELS.items():
        assert set(labels) == {m.value for m in vocabulary}, vocabulary
        assert all(nl and en for nl, en in labels.values())
    assert all_vocabularies()["end_reason"]["mismatch"] == {"nl": "geen goede match", "en": "mismatch"}
