"""Dutch and English labels of every vocabulary matching uses (``GET /vocabularies``).

Codes travel on the bus; labels are for people. A test checks that every code of every
vocabulary here has both labels.
"""

from __future__ import annotations

from enum import StrEnum

from shared.contracts.common import Interest, PartOfDay, TargetGroup, TravelRange, Weekday
from shared.contracts.matching import (
    ConsentScope,
    DeclineReason,
    EndReason,
    LifeDomain,
    Party,
    PauseReason,
    ReferrerType,
    ReturnReason,
    Wish,
    WithdrawalReason,
)

Label = dict[str, str]

LABELS: dict[type[StrEnum], dict[str, tuple[str, str]]] = {
    TargetGroup: {
        "individual_adult": ("volwassene", "individual adult"),
        "family": ("gezin", "family"),
        "child": ("kind", "child"),
        "youth": ("jongere", "youth"),
    },
    ReferrerType: {
        "mental_health_centre": ("centrum geestelijke gezondheidszorg (CGG)", "mental-health centre"),
        "social_services": ("OCMW / sociale dienst", "social services (OCMW)"),
        "school": ("school", "school"),
        "youth_care": ("jeugdhulp", "youth care"),
        "general_practitioner": ("huisarts", "general practitioner"),
        "self": ("zelf aangemeld", "self-referred"),
        "other": ("andere", "other"),
    },
    LifeDomain: {
        "poverty": ("armoede", "poverty"),
        "psychological_vulnerability": ("psychische kwetsbaarheid", "psychological vulnerability"),
        "isolation": ("isolement", "isolation"),
        "newcomer": ("nieuwkomer / vluchteling", "newcomer / refugee"),
        "addiction": ("verslaving", "addiction"),
        "other": ("andere", "other"),
    },
    Wish: {
        "company": ("gezelschap, een babbel", "company, a chat"),
        "going_out": ("buitenkomen", "getting out of the house"),
        "social_network": ("een sociaal netwerk opbouwen", "building a social network"),
        "practical_support": ("praktische ondersteuning", "practical support"),
        "accompaniment_to_services": ("begeleiding naar diensten", "accompaniment to services"),
        "language_practice": ("Nederlands oefenen", "practising Dutch"),
        "leisure": ("vrije tijd samen", "leisure together"),
        "parenting_support": ("steun bij opvoeding", "parenting support"),
        "homework_support": ("huiswerkbegeleiding", "homework support"),
        "other": ("andere", "other"),
    },
    Interest: {
        "walking": ("wandelen", "walking"),
        "cooking": ("koken", "cooking"),
        "culture": ("cultuur", "culture"),
        "sport": ("sport", "sport"),
        "music": ("muziek", "music"),
        "games": ("spelletjes", "games"),
        "nature": ("natuur", "nature"),
        "crafts": ("handwerk en knutselen", "crafts"),
        "reading": ("lezen", "reading"),
        "technology": ("technologie", "technology"),
        "gardening": ("tuinieren", "gardening"),
        "animals": ("dieren", "animals"),
        "shopping": ("winkelen", "shopping"),
        "children_activities": ("activiteiten met kinderen", "activities with children"),
        "language_practice": ("taal oefenen", "language practice"),
        "other": ("andere", "other"),
    },
    Weekday: {
        "mon": ("maandag", "Monday"), "tue": ("dinsdag", "Tuesday"), "wed": ("woensdag", "Wednesday"),
        "thu": ("donderdag", "Thursday"), "fri": ("vrijdag", "Friday"), "sat": ("zaterdag", "Saturday"),
        "sun": ("zondag", "Sunday"),
    },
    PartOfDay: {
        "morning": ("voormiddag", "morning"),
        "afternoon": ("namiddag", "afternoon"),
        "evening": ("avond", "evening"),
    },
    TravelRange: {
        "same_municipality": ("eigen gemeente", "own municipality"),
        "same_arrondissement": ("eigen arrondissement", "own arrondissement"),
        "same_province": ("eigen provincie", "own province"),
        "anywhere": ("overal", "anywhere"),
    },
    ConsentScope: {
        "matching": ("gekoppeld worden aan een buddy", "being matched with a buddy"),
        "data_processing": ("bijhouden van gegevens", "keeping data"),
        "share_contact_with_volunteer": ("contactgegevens delen met de buddy", "sharing contact details with the buddy"),
        "followup_contact": ("opgebeld worden na het duo", "being called after the duo"),
    },
    WithdrawalReason: {
        "no_longer_needed": ("niet meer nodig", "no longer needed"),
        "other_support_found": ("andere ondersteuning gevonden", "other support found"),
        "moved": ("verhuisd", "moved"),
        "not_reachable": ("niet bereikbaar", "not reachable"),
        "waited_too_long": ("te lang gewacht", "waited too long"),
        "declined_offer": ("aanbod geweigerd", "declined the offer"),
        "personal_circumstances": ("persoonlijke omstandigheden", "personal circumstances"),
        "erasure_requested": ("wissing van gegevens gevraagd", "erasure requested"),
        "other": ("andere", "other"),
    },
    ReturnReason: {
        "mismatch": ("geen goede match", "mismatch"),
        "new_request": ("nieuwe hulpvraag", "new request for support"),
        "volunteer_stopped": ("buddy gestopt", "volunteer stopped"),
        "other": ("andere", "other"),
    },
    DeclineReason: {
        "no_click": ("geen klik", "no click"),
        "availability": ("beschikbaarheid past niet", "availability does not fit"),
        "distance": ("te ver", "too far"),
        "different_expectations": ("andere verwachtingen", "different expectations"),
        "personal_circumstances": ("persoonlijke omstandigheden", "personal circumstances"),
        "no_longer_needed": ("niet meer nodig", "no longer needed"),
        "volunteer_unavailable": ("buddy niet meer beschikbaar", "volunteer no longer available"),
        "other": ("andere", "other"),
    },
    PauseReason: {
        "holiday": ("vakantie", "holiday"),
        "illness": ("ziekte", "illness"),
        "personal_circumstances": ("persoonlijke omstandigheden", "personal circumstances"),
        "crisis": ("crisis", "crisis"),
        "other": ("andere", "other"),
    },
    EndReason: {
        "goals_reached": ("doelen bereikt / deelnemer zelfstandiger", "goals reached / participant more independent"),
        "volunteer_stopped": ("buddy gestopt", "volunteer stopped"),
        "participant_stopped": ("deelnemer gestopt", "participant stopped"),
        "moved": ("verhuisd", "moved"),
        "mismatch": ("geen goede match", "mismatch"),
        "boundary_problem": ("grensoverschrijding", "boundary problem"),
        "other": ("andere", "other"),
    },
    Party: {
        "volunteer": ("buddy", "volunteer"),
        "participant": ("deelnemer", "participant"),
    },
}

NAMES: dict[type[StrEnum], str] = {
    TargetGroup: "target_group", ReferrerType: "referrer_type", LifeDomain: "life_domain", Wish: "wish",
    Interest: "interest", Weekday: "weekday", PartOfDay: "part_of_day", TravelRange: "travel_range",
    ConsentScope: "consent_scope", WithdrawalReason: "withdrawal_reason", ReturnReason: "return_reason",
    DeclineReason: "decline_reason", PauseReason: "pause_reason", EndReason: "end_reason", Party: "party",
}


def label(vocabulary: type[StrEnum], code: str) -> Label:
    nl, en = LABELS[vocabulary][str(code)]
    return {"nl": nl, "en": en}


def nl(vocabulary: type[StrEnum], code: str) -> str:
    return LABELS[vocabulary][str(code)][0]


def en(vocabulary: type[StrEnum], code: str) -> str:
    return LABELS[vocabulary][str(code)][1]


def all_vocabularies() -> dict[str, dict[str, Label]]:
    return {NAMES[vocab]: {code.value: label(vocab, code.value) for code in vocab} for vocab in NAMES}
