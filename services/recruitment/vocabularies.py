"""Labels of every vocabulary the recruitment API uses, Dutch first and English second."""

from __future__ import annotations

from enum import StrEnum

from shared.contracts.common import AgeBand, Interest, PartOfDay, TargetGroup, TravelRange, Weekday
from shared.contracts.recruitment import (
    Gender,
    KeepWarmKind,
    LegalItem,
    ProjectCloseReason,
    RecruitmentChannel,
    ScreeningOutcome,
    ScreeningRefusal,
    StopReason,
    TrainingKind,
)
from services.recruitment.domain import LegalState, ProjectStatus, VolunteerStatus

Labels = dict[str, tuple[str, str]]

LABELS: dict[str, tuple[type[StrEnum], Labels]] = {
    "recruitment_channel": (RecruitmentChannel, {
        "word_of_mouth": ("Mond-tot-mondreclame", "Word of mouth"),
        "website": ("Website", "Website"),
        "volunteer_platform": ("Vrijwilligersplatform", "Volunteer platform"),
        "other_volunteer_work": ("Ander vrijwilligerswerk in de organisatie", "Other volunteer work in the organisation"),
        "social_media": ("Sociale media", "Social media"),
        "event": ("Evenement", "Event"),
        "referral": ("Doorverwijzing", "Referral"),
        "other": ("Andere", "Other"),
    }),
    "gender": (Gender, {
        "female": ("Vrouw", "Female"), "male": ("Man", "Male"), "x": ("X", "X"),
    }),
    "age_band": (AgeBand, {b.value: (f"{b.value} jaar", f"{b.value} years") for b in AgeBand}),
    "target_group": (TargetGroup, {
        "individual_adult": ("Volwassene (individueel)", "Adult (individual)"),
        "family": ("Gezin", "Family"),
        "child": ("Kind", "Child"),
        "youth": ("Jongere", "Young person"),
    }),
    "interest": (Interest, {
        "walking": ("Wandelen", "Walking"), "cooking": ("Koken", "Cooking"), "culture": ("Cultuur", "Culture"),
        "sport": ("Sport", "Sport"), "music": ("Muziek", "Music"), "games": ("Spelletjes", "Games"),
        "nature": ("Natuur", "Nature"), "crafts": ("Knutselen en handwerk", "Crafts"), "reading": ("Lezen", "Reading"),
        "technology": ("Technologie", "Technology"), "gardening": ("Tuinieren", "Gardening"),
        "animals": ("Dieren", "Animals"), "shopping": ("Winkelen", "Shopping"),
        "children_activities": ("Activiteiten met kinderen", "Activities with children"),
        "language_practice": ("Taal oefenen", "Language practice"), "other": ("Andere", "Other"),
    }),
    "weekday": (Weekday, {
        "mon": ("Maandag", "Monday"), "tue": ("Dinsdag", "Tuesday"), "wed": ("Woensdag", "Wednesday"),
        "thu": ("Donderdag", "Thursday"), "fri": ("Vrijdag", "Friday"), "sat": ("Zaterdag", "Saturday"),
        "sun": ("Zondag", "Sunday"),
    }),
    "part_of_day": (PartOfDay, {
        "morning": ("Voormiddag", "Morning"), "afternoon": ("Namiddag", "Afternoon"), "evening": ("Avond", "Evening"),
    }),
    "travel_range": (TravelRange, {
        "same_municipality": ("Binnen de eigen gemeente", "Within their municipality"),
        "same_arrondissement": ("Binnen het arrondissement", "Within the arrondissement"),
        "same_province": ("Binnen de provincie", "Within the province"),
        "anywhere": ("Overal", "Anywhere"),
    }),
    "volunteer_status": (VolunteerStatus, {
        "new": ("Nieuw", "New"),
        "enquired": ("Aangemeld", "Enquired"),
        "intake_held": ("Intake gehad, wacht op screening", "Intake held, awaiting screening"),
        "in_preparation": ("Goedgekeurd, in coaching of vorming", "Approved, in coaching or training"),
        "available": ("Beschikbaar voor matching", "Available for matching"),
        "in_duo": ("In een duo", "In a duo"),
        "paused": ("Gepauzeerd", "Paused"),
        "stopped": ("Gestopt", "Stopped"),
    }),
    "screening_outcome": (ScreeningOutcome, {
        "approved": ("Goedgekeurd", "Approved"), "not_approved": ("Niet goedgekeurd", "Not approved"),
    }),
    "screening_refusal": (ScreeningRefusal, {
        "profile_does_not_fit": ("Profiel past niet bij de werking", "Profile does not fit the programme"),
        "insufficient_availability": ("Te weinig beschikbaar", "Not available enough"),
        "safety_concern": ("Bezorgdheid over veiligheid", "Safety concern"),
        "no_criminal_record_extract": ("Geen uittreksel uit het strafregister", "No criminal-record extract"),
        "own_support_needs_first": ("Eerst eigen ondersteuningsnood", "Own support needs come first"),
        "other": ("Andere", "Other"),
    }),
    "training_kind": (TrainingKind, {
        "individual_coaching": ("Individuele coaching", "Individual coaching"),
        "group_training": ("Groepsvorming", "Group training"),
    }),
    "legal_item": (LegalItem, {
        "information_notice": ("Organisatienota (vrijwilligerswet) gegeven", "Volunteer-law information notice given"),
        "insurance": ("Verzekering bevestigd", "Insurance confirmed"),
        "criminal_record_extract": ("Uittreksel strafregister model 2", "Criminal-record extract (model 2)"),
    }),
    "legal_state": (LegalState, {
        "ok": ("In orde", "In order"), "missing": ("Ontbreekt", "Missing"), "expired": ("Verlopen", "Expired"),
        "expiring": ("Verloopt binnenkort", "Expiring soon"),
    }),
    "keep_warm_kind": (KeepWarmKind, {
        "call": ("Telefoontje", "Call"),
        "activity_invitation": ("Uitnodiging voor een activiteit", "Invitation to an activity"),
        "meeting_place_invitation": ("Uitnodiging voor een ontmoetingsmoment", "Invitation to a meeting place"),
        "message": ("Bericht", "Message"),
        "other": ("Andere", "Other"),
    }),
    "stop_reason": (StopReason, {
        "not_approved": ("Niet goedgekeurd na screening", "Not approved in screening"),
        "no_time": ("Geen tijd", "No time"),
        "health": ("Gezondheid", "Health"),
        "moved": ("Verhuisd", "Moved"),
        "waited_too_long": ("Te lang gewacht op een match", "Waited too long for a match"),
        "other_volunteer_work": ("Ander vrijwilligerswerk", "Other volunteer work"),
        "personal_circumstances": ("Persoonlijke omstandigheden", "Personal circumstances"),
        "other": ("Andere", "Other"),
    }),
    "project_status": (ProjectStatus, {
        "new": ("Nieuw", "New"), "open": ("Lopend", "Open"), "closed": ("Afgesloten", "Closed"),
    }),
    "project_close_reason": (ProjectCloseReason, {
        "funding_ended": ("Financiering afgelopen", "Funding ended"),
        "merged": ("Samengegaan met een ander project", "Merged with another project"),
        "stopped_by_organisation": ("Gestopt door de organisatie", "Stopped by the organisation"),
        "other": ("Andere", "Other"),
    }),
}


def label(vocabulary: str, code: str) -> dict[str, str]:
    nl, en = LABELS[vocabulary][1][str(code)]
    return {"nl": nl, "en": en}


def all_vocabularies() -> dict[str, dict[str, dict[str, str]]]:
    return {name: {member.value: {"nl": labels[member.value][0], "en": labels[member.value][1]} for member in enum}
            for name, (enum, labels) in LABELS.items()}
