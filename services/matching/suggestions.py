"""Suggestions: which volunteers may be proposed to a participant, how well they fit, and why.

Pure: no database, no clock, no network. The caller passes the participants (``Seeker``),
the candidate pool (``Candidate``), the project's weights and "today".

* **Hard constraints** (``violations``): same project, the volunteer is available (not
  enquired, paused or stopped) and has room for another duo, the participant's consent
  allows matching, the participant's target group is one the volunteer wants, they share
  a language, the participant lives within how far the volunteer travels (NIS
  hierarchy: municipality ⊂ arrondissement ⊂ province; Brussels counts as one province),
  and the pair was not declined before nor ended in a mismatch or boundary problem. For a
  child, youth or family the volunteer must be cleared for work with minors: a recent
  criminal-record extract (model 2) and valid insurance (``shared.screening``; the caller
  decides the gaps for "today" and passes them in ``Candidate.screening_gaps``). A volunteer
  whose personal data was erased is never a candidate.
* **Score** (``evaluate``): the weighted mean, between 0 and 1, of five criteria —
  shared interests, overlapping availability slots (both as overlap coefficient
  |A∩B| / min(|A|,|B|)), distance class (same municipality 1, arrondissement ⅔,
  province ⅓, further 0), and fairness: how long the volunteer has been available and
  how long the participant has been waiting (days / horizon, capped at 1). Every
  criterion carries an explanation in Dutch and English.
* ``score_matrix`` computes feasibility and scores for many participants × many
  volunteers at once with numpy; it equals ``violations``/``evaluate`` pair by pair
  (a property test checks that) and feeds the overall assignment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np

from shared.contracts.common import Interest, PartOfDay, TargetGroup, TravelRange, Weekday
from shared.contracts.matching import MatchingWeights
from shared.municipalities import municipalities
from shared.screening import ScreeningGap, works_with_minors
from services.matching.vocabularies import en as label_en
from services.matching.vocabularies import nl as label_nl

CRITERIA = ("interests", "availability", "distance", "volunteer_waiting", "participant_waiting")
SLOTS = tuple(f"{d.value}-{p.value}" for d in Weekday for p in PartOfDay)
TRAVEL_RANK = {TravelRange.same_municipality: 0, TravelRange.same_arrondissement: 1,
               TravelRange.same_province: 2, TravelRange.anywhere: 3}
DISTANCE_VALUE = (1.0, 2 / 3, 1 / 3, 0.0)  # by distance class 0..3
_DISTANCE_TEXT = (
    ("Zelfde gemeente", "Same municipality"),
    ("Zelfde arrondissement", "Same arrondissement"),
    ("Zelfde provincie", "Same province"),
    ("Verder dan de eigen provincie", "Beyond the own province"),
)
_INTERESTS = tuple(i.value for i in Interest)
_TARGET_GROUPS = tuple(t.value for t in TargetGroup)


def slot_code(day: str, part: str) -> str:
    return f"{day}-{part}"


# ---------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Seeker:
    """A participant as matching sees them: coarse attributes only."""

    participant_id: str
    project_id: str
    target_group: str
    languages: frozenset[str]
    interests: frozenset[str]
    availability: frozenset[str]  # slot codes such as "mon-morning"
    municipality_nis: str
    consent: bool
    waiting_since: date
    tried: frozenset[str] = frozenset()  # volunteers of an earlier declined proposal or failed duo


@dataclass(frozen=True)
class Candidate:
    """A volunteer of the pool, as learned from recruitment's events."""

    volunteer_id: str
    project_id: str
    available: bool
    target_groups: frozenset[str]
    languages: frozenset[str]
    interests: frozenset[str]
    availability: frozenset[str]
    municipality_nis: str
    travel: str
    capacity_left: int
    available_since: date | None
    screening_gaps: tuple[ScreeningGap, ...] = ()  # why not cleared for minors today (empty: cleared)
    erased: bool = False


@dataclass(frozen=True)
class Scoring:
    weights: MatchingWeights
    today: date
    horizon_days: int = 180

    def __post_init__(self) -> None:
        if self.horizon_days < 1:
            raise ValueError("horizon_days must be at least 1")

    @property
    def weight_vector(self) -> tuple[float, ...]:
        return tuple(float(getattr(self.weights, name)) for name in CRITERIA)


# ---------------------------------------------------------------------------- outputs
@dataclass(frozen=True)
class Violation:
    code: str
    nl: str
    en: str

    @property
    def message(self) -> str:
        return f"{self.nl} / {self.en}"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "nl": self.nl, "en": self.en}


@dataclass(frozen=True)
class Criterion:
    code: str
    value: float  # 0..1
    weight: float
    contribution: float  # this criterion's share of the score
    nl: str
    en: str

    def as_dict(self) -> dict[str, object]:
        return {"criterion": self.code, "value": round(self.value, 4), "weight": self.weight,
                "contribution": round(self.contribution, 4), "explanation": {"nl": self.nl, "en": self.en}}


@dataclass(frozen=True)
class Suggestion:
    participant_id: str
    volunteer_id: str
    score: float
    criteria: tuple[Criterion, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {"participant_id": self.participant_id, "volunteer_id": self.volunteer_id,
                "score": round(self.score, 4), "criteria": [c.as_dict() for c in self.criteria]}


# ---------------------------------------------------------------------------- geography
@dataclass(frozen=True)
class Place:
    nis: str
    name: str
    arrondissement: str
    province: str


@lru_cache(maxsize=4096)
def place(nis: str) -> Place:
    """Where a municipality lies; an unknown code is a place of its own."""
    m = municipalities().get(nis)
    if m is None:
        return Place(nis, nis, f"?{nis}", f"?{nis}")
    province = m.province if m.province not in ("", "0") else m.arrondissement  # Brussels has no province
    return Place(nis, m.name_nl, m.arrondissement, province)


def distance_class(a: str, b: str) -> int:
    """0 same municipality, 1 same arrondissement, 2 same province, 3 further."""
    if a == b:
        return 0
    pa, pb = place(a), place(b)
    if pa.arrondissement == pb.arrondissement:
        return 1
    if pa.province == pb.province:
        return 2
    return 3


# ---------------------------------------------------------------------------- hard constraints
def violations(seeker: Seeker, candidate: Candidate) -> list[Violation]:
    """Every hard constraint this pair breaks; empty when the pair may be proposed."""
    out: list[Violation] = []
    if candidate.project_id != seeker.project_id:
        out.append(Violation("same_project", "De vrijwilliger hoort bij een ander project",
                             "The volunteer belongs to another project"))
    if candidate.erased:
        out.append(Violation("erased", "De gegevens van deze vrijwilliger zijn gewist",
                             "This volunteer's personal data has been erased"))
    elif not candidate.available:
        out.append(Violation("volunteer_available", "Deze vrijwilliger is niet beschikbaar voor matching",
                             "This volunteer is not available for matching"))
    if candidate.capacity_left <= 0:
        out.append(Violation("capacity", "Deze vrijwilliger heeft geen plaats voor nog een duo",
                             "This volunteer has no room for another duo"))
    if not seeker.consent:
        out.append(Violation("consent", "Er is geen toestemming van de deelnemer geregistreerd om te matchen",
                             "No consent of the participant to be matched is recorded"))
    if seeker.target_group not in candidate.target_groups:
        out.append(Violation("target_group", "De vrijwilliger wil niet met deze doelgroep werken",
                             "The volunteer does not want to work with this target group"))
    if works_with_minors(seeker.target_group) and candidate.screening_gaps:
        out.append(screening_violation(candidate.screening_gaps))
    if not (seeker.languages & candidate.languages):
        out.append(Violation("common_language", "Vrijwilliger en deelnemer hebben geen gemeenschappelijke taal",
                             "Volunteer and participant share no language"))
    if distance_class(seeker.municipality_nis, candidate.municipality_nis) > TRAVEL_RANK[TravelRange(candidate.travel)]:
        out.append(Violation("travel_range", "De deelnemer woont verder dan de vrijwilliger wil reizen",
                             "The participant lives further away than the volunteer travels"))
    if candidate.volunteer_id in seeker.tried:
        out.append(Violation("tried_before", "Dit duo werd al afgewezen of liep mis",
                             "This pair was declined before or did not work out"))
    return out


def screening_violation(gaps: Sequence[ScreeningGap]) -> Violation:
    """Not cleared for a child, youth or family, saying which item and which date."""
    return Violation("screening_minors",
                     "Niet gescreend voor werk met minderjarigen: " + "; ".join(g.nl for g in gaps),
                     "Not screened for work with minors: " + "; ".join(g.en for g in gaps))


def feasible(seeker: Seeker, candidate: Candidate) -> bool:
    return not violations(seeker, candidate)


# ---------------------------------------------------------------------------- score
def _overlap(a: frozenset[str], b: frozenset[str]) -> tuple[float, list[str]]:
    common = sorted(a & b)
    smaller = min(len(a), len(b))
    return (len(common) / smaller if smaller else 0.0), common


def _listed(codes: Sequence[str], words: Iterable[str], limit: int = 4) -> str:
    words = list(words)
    shown = ", ".join(words[:limit])
    return shown + (f" (+{len(words) - limit})" if len(words) > limit else "")


def _slot_words(slots: Sequence[str], lang: str) -> list[str]:
    words = []
    for slot in slots:
        day, part = slot.split("-", 1)
        if lang == "nl":
            words.append(f"{label_nl(Weekday, day)} {label_nl(PartOfDay, part)}")
        else:
            words.append(f"{label_en(Weekday, day)} {label_en(PartOfDay, part)}")
    return words


def _days(since: date | None, today: date) -> int:
    return max(0, (today - since).days) if since is not None else 0


def evaluate(seeker: Seeker, candidate: Candidate, scoring: Scoring) -> Suggestion:
    """The weighted score of a pair with a sentence per criterion ("why this buddy")."""
    interests, common_interests = _overlap(seeker.interests, candidate.interests)
    availability, common_slots = _overlap(seeker.availability, candidate.availability)
    cls = distance_class(seeker.municipality_nis, candidate.municipality_nis)
    v_days, p_days = _days(candidate.available_since, scoring.today), _days(seeker.waiting_since, scoring.today)
    values = (interests, availability, DISTANCE_VALUE[cls],
              min(v_days / scoring.horizon_days, 1.0), min(p_days / scoring.horizon_days, 1.0))

    if not seeker.interests or not candidate.interests:
        t_interests = ("Interesses niet gekend", "Interests not known")
    elif not common_interests:
        t_interests = ("Geen gedeelde interesses", "No shared interests")
    else:
        t_interests = (f"{len(common_interests)} gedeelde interesse(s): "
                       + _listed(common_interests, (label_nl(Interest, i) for i in common_interests)),
                       f"{len(common_interests)} shared interest(s): "
                       + _listed(common_interests, (label_en(Interest, i) for i in common_interests)))
    if not seeker.availability or not candidate.availability:
        t_slots = ("Beschikbaarheid niet gekend", "Availability not known")
    elif not common_slots:
        t_slots = ("Geen gemeenschappelijk moment", "No common time slot")
    else:
        ordered = [s for s in SLOTS if s in common_slots]
        t_slots = (f"Beiden vrij op {len(ordered)} moment(en): " + _listed(ordered, _slot_words(ordered, "nl")),
                   f"Both free at {len(ordered)} time(s): " + _listed(ordered, _slot_words(ordered, "en")))
    here, there = place(seeker.municipality_nis), place(candidate.municipality_nis)
    where = {0: here.name, 1: here.arrondissement, 2: here.province, 3: f"{there.name} – {here.name}"}[cls]
    t_distance = (f"{_DISTANCE_TEXT[cls][0]} ({where})", f"{_DISTANCE_TEXT[cls][1]} ({where})")
    t_volunteer = (f"De buddy wacht al {v_days} dag(en) op een duo", f"The buddy has been waiting {v_days} day(s) for a duo")
    t_participant = (f"De deelnemer wacht al {p_days} dag(en)", f"The participant has been waiting {p_days} day(s)")
    texts = (t_interests, t_slots, t_distance, t_volunteer, t_participant)

    weights = scoring.weight_vector
    total_weight = sum(weights)
    terms = [w * v for w, v in zip(weights, values, strict=True)]
    score = _weighted(terms, total_weight)
    criteria = tuple(
        Criterion(code, value, weight, (term / total_weight) if total_weight else 0.0, text[0], text[1])
        for code, value, weight, term, text in zip(CRITERIA, values, weights, terms, texts, strict=True)
    )
    return Suggestion(seeker.participant_id, candidate.volunteer_id, score, criteria)


def _weighted(terms: Sequence[float], total_weight: float) -> float:
    total = 0.0
    for term in terms:  # the same order as score_matrix, so both agree to the last bit that matters
        total += term
    return total / total_weight if total_weight else 0.0


def rank(seeker: Seeker, candidates: Iterable[Candidate], scoring: Scoring, limit: int | None = None,
         offset: int = 0) -> list[Suggestion]:
    """The feasible candidates for one participant, best first, explained (the ``offset``/``limit`` page).

    Ties go to the volunteer who has waited longest, then to the lower id (stable).
    Ordering uses the score matrix; only the page shown is explained.
    """
    pool = list(candidates)
    order = ranked_columns(seeker, pool, scoring)
    page = order[offset:] if limit is None else order[offset:offset + limit]
    return [evaluate(seeker, pool[j], scoring) for j in page]


def ranked_columns(seeker: Seeker, candidates: Sequence[Candidate], scoring: Scoring) -> list[int]:
    """Indexes of the feasible candidates in rank order."""
    scores, ok = score_matrix([seeker], candidates, scoring)
    return _ordered(scores[0], ok[0], *_tie_breakers(candidates, scoring)).tolist()


def _tie_breakers(candidates: Sequence[Candidate], scoring: Scoring) -> tuple[np.ndarray, np.ndarray]:
    waited = np.array([_days(c.available_since, scoring.today) for c in candidates], dtype=float)
    id_rank = np.argsort(np.argsort(np.array([c.volunteer_id for c in candidates], dtype=object), kind="stable"),
                         kind="stable")
    return waited, id_rank


def _ordered(scores: np.ndarray, ok: np.ndarray, waited: np.ndarray, id_rank: np.ndarray) -> np.ndarray:
    columns = np.flatnonzero(ok)
    return columns[np.lexsort((id_rank[columns], -waited[columns], -scores[columns]))]


def excluded(seeker: Seeker, candidates: Iterable[Candidate]) -> list[tuple[str, list[Violation]]]:
    """Why each other candidate cannot be proposed ("why not this buddy")."""
    return [(c.volunteer_id, v) for c in candidates if (v := violations(seeker, c))]


# ---------------------------------------------------------------------------- many at once
def score_matrix(seekers: Sequence[Seeker], candidates: Sequence[Candidate],
                 scoring: Scoring) -> tuple[np.ndarray, np.ndarray]:
    """Scores (float, n×m) and feasibility (bool, n×m) of every participant × volunteer pair."""
    n, m = len(seekers), len(candidates)
    if n == 0 or m == 0:
        return np.zeros((n, m)), np.zeros((n, m), dtype=bool)

    projects = {p: i for i, p in enumerate(sorted({s.project_id for s in seekers} | {c.project_id for c in candidates}))}
    same_project = (np.array([projects[s.project_id] for s in seekers])[:, None]
                    == np.array([projects[c.project_id] for c in candidates])[None, :])
    available = np.array([c.available and not c.erased for c in candidates], dtype=bool)
    minors = np.array([works_with_minors(s.target_group) for s in seekers], dtype=bool)
    cleared = np.array([not c.screening_gaps for c in candidates], dtype=bool)
    has_room = np.array([c.capacity_left > 0 for c in candidates], dtype=bool)
    consent = np.array([s.consent for s in seekers], dtype=bool)

    tg_index = {t: i for i, t in enumerate(_TARGET_GROUPS)}
    seeker_tg = _one_hot([[s.target_group] for s in seekers], tg_index)
    cand_tg = _one_hot([c.target_groups for c in candidates], tg_index)
    target_ok = (seeker_tg @ cand_tg.T) > 0

    languages = {lang: i for i, lang in enumerate(sorted({x for s in seekers for x in s.languages}
                                                          | {x for c in candidates for x in c.languages}))}
    language_ok = (_one_hot([s.languages for s in seekers], languages)
                   @ _one_hot([c.languages for c in candidates], languages).T) > 0

    interests = _overlap_matrix([s.interests for s in seekers], [c.interests for c in candidates],
                                {x: i for i, x in enumerate(_INTERESTS)})
    slots = _overlap_matrix([s.availability for s in seekers], [c.availability for c in candidates],
                            {x: i for i, x in enumerate(SLOTS)})

    cls = _distance_classes([s.municipality_nis for s in seekers], [c.municipality_nis for c in candidates])
    travel = np.array([TRAVEL_RANK[TravelRange(c.travel)] for c in candidates])
    travel_ok = cls <= travel[None, :]
    distance = np.asarray(DISTANCE_VALUE)[cls]

    horizon = float(scoring.horizon_days)
    v_wait = np.minimum(np.array([_days(c.available_since, scoring.today) for c in candidates]) / horizon, 1.0)
    p_wait = np.minimum(np.array([_days(s.waiting_since, scoring.today) for s in seekers]) / horizon, 1.0)

    w = scoring.weight_vector
    total_weight = sum(w)
    total = w[0] * interests
    total = total + w[1] * slots
    total = total + w[2] * distance
    total = total + (w[3] * v_wait)[None, :]
    total = total + (w[4] * p_wait)[:, None]
    scores = total / total_weight if total_weight else np.zeros((n, m))

    ok = same_project & available[None, :] & has_room[None, :] & consent[:, None] & target_ok & language_ok & travel_ok
    ok &= ~minors[:, None] | cleared[None, :]
    column = {c.volunteer_id: j for j, c in enumerate(candidates)}
    for i, seeker in enumerate(seekers):
        for volunteer_id in seeker.tried:
            j = column.get(volunteer_id)
            if j is not None:
                ok[i, j] = False
    return scores, ok


def _one_hot(rows: Sequence[Iterable[str]], index: dict[str, int]) -> np.ndarray:
    out = np.zeros((len(rows), max(len(index), 1)), dtype=np.float64)
    for r, items in enumerate(rows):
        for item in items:
            k = index.get(item)
            if k is not None:
                out[r, k] = 1.0
    return out


def _overlap_matrix(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]], index: dict[str, int]) -> np.ndarray:
    """Overlap coefficient |A∩B| / min(|A|,|B|) for every pair (0 when either is empty)."""
    ha, hb = _one_hot(a, index), _one_hot(b, index)
    common = ha @ hb.T
    smaller = np.minimum(np.array([len(x) for x in a], dtype=float)[:, None], np.array([len(x) for x in b], dtype=float)[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(smaller > 0, common / np.where(smaller > 0, smaller, 1.0), 0.0)


def _distance_classes(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    def codes(values: list[str]) -> dict[str, int]:
        return {v: i for i, v in enumerate(sorted(set(values)))}

    pa, pb = [place(x) for x in a], [place(x) for x in b]
    nis = codes([p.nis for p in pa + pb])
    arr = codes([p.arrondissement for p in pa + pb])
    prov = codes([p.province for p in pa + pb])

    def eq(key: dict[str, int], attr: str) -> np.ndarray:
        return (np.array([key[getattr(p, attr)] for p in pa])[:, None] == np.array([key[getattr(p, attr)] for p in pb])[None, :])

    cls = np.full((len(a), len(b)), 3, dtype=np.int64)
    cls[eq(prov, "province")] = 2
    cls[eq(arr, "arrondissement")] = 1
    cls[eq(nis, "nis")] = 0
    return cls


def top_k(seekers: Sequence[Seeker], candidates: Sequence[Candidate], scoring: Scoring, k: int) -> list[list[Suggestion]]:
    """For each participant its ``k`` best feasible volunteers, explained; one numpy pass for all.

    The order is ``rank``'s: score, then the volunteer waiting longest, then the id.
    """
    if not seekers:
        return []
    scores, ok = score_matrix(seekers, candidates, scoring)
    waited, id_rank = _tie_breakers(candidates, scoring)
    return [[evaluate(seeker, candidates[j], scoring) for j in _ordered(scores[i], ok[i], waited, id_rank)[:k]]
            for i, seeker in enumerate(seekers)]
