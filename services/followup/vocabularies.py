"""Dutch and English labels of every follow-up vocabulary (``GET /vocabularies``)."""

from __future__ import annotations

from enum import StrEnum

from shared.contracts.followup import (
    Activity,
    BoundaryFollowUpAction,
    BoundaryRaisedBy,
    BoundaryResolution,
    BoundarySeverity,
    BoundarySignalType,
    CoachingKind,
    CoachingTheme,
    ContactMode,
    ContactRetractionReason,
    EvaluationMoment,
    FollowUpCallOutcome,
    GoalDomain,
    GoalOutcome,
    NetworkChange,
    PolicyTheme,
)

LABELS: dict[type[StrEnum], dict[str, tuple[str, str]]] = {
    ContactMode: {
        "in_person": ("fysiek", "in person"), "phone": ("telefoon", "phone"), "video": ("video", "video"),
        "message": ("bericht", "message"),
    },
    Activity: {
        "walk": ("wandeling", "walk"),
        "coffee_or_chat": ("koffie of babbel", "coffee or a chat"),
        "shopping": ("boodschappen", "shopping"),
        "leisure_or_culture": ("vrije tijd of cultuur", "leisure or culture"),
        "sport": ("sport", "sport"),
        "accompany_food_bank": ("begeleiding naar de voedselbank", "accompanying to the food bank"),
        "accompany_union": ("begeleiding naar de vakbond", "accompanying to the union"),
        "accompany_school": ("begeleiding naar school", "accompanying to school"),
        "accompany_doctor": ("begeleiding naar de dokter", "accompanying to the doctor"),
        "accompany_administration": ("begeleiding bij administratie of diensten", "accompanying to administration"),
        "playground_or_children_activity": ("speeltuin of activiteit met kinderen",
                                            "playground or activity with children"),
        "other": ("andere", "other"),
    },
    ContactRetractionReason: {
        "duplicate": ("dubbel geregistreerd", "duplicate"), "wrong_duo": ("verkeerd duo", "wrong duo"),
        "did_not_happen": ("vond niet plaats", "did not happen"),
        "entered_in_error": ("foutief ingevoerd", "entered in error"), "other": ("andere", "other"),
    },
    CoachingKind: {
        "individual": ("individuele coaching", "individual coaching"), "group": ("groepsvorming", "group session"),
        "intervision": ("intervisie", "intervision"),
    },
    CoachingTheme: {
        "role_of_the_buddy": ("rol van de buddy", "role of the buddy"),
        "boundaries": ("grenzen", "boundaries"),
        "communication": ("communicatie", "communication"),
        "motivation_and_expectations": ("motivatie en verwachtingen", "motivation and expectations"),
        "poverty_and_vulnerability": ("armoede en kwetsbaarheid", "poverty and vulnerability"),
        "mental_health": ("psychisch welzijn", "mental health"),
        "cultural_sensitivity": ("cultuursensitiviteit", "cultural sensitivity"),
        "practical_questions": ("praktische vragen", "practical questions"),
        "ending_the_duo": ("afronden van het duo", "ending the duo"),
        "self_care": ("zelfzorg", "self-care"),
        "other": ("andere", "other"),
    },
    BoundarySignalType: {
        "money_or_goods_asked": ("vraag naar geld of goederen", "money or goods asked"),
        "over_demand_or_availability": ("te veel vraag of beschikbaarheid", "over-demand or availability"),
        "crisis": ("crisis", "crisis"), "safety": ("veiligheid", "safety"), "conflict": ("conflict", "conflict"),
        "other": ("andere", "other"),
    },
    BoundarySeverity: {
        "low": ("laag", "low"), "medium": ("middel", "medium"), "high": ("hoog", "high"),
        "critical": ("kritiek", "critical"),
    },
    BoundaryRaisedBy: {
        "buddy": ("buddy", "buddy"), "participant": ("deelnemer", "participant"),
        "professional": ("begeleider", "professional"), "other": ("andere", "other"),
    },
    BoundaryFollowUpAction: {
        "conversation_with_buddy": ("gesprek met de buddy", "conversation with the buddy"),
        "conversation_with_participant": ("gesprek met de deelnemer", "conversation with the participant"),
        "triangle_meeting": ("driehoeksgesprek", "triangle meeting"),
        "agreements_adjusted": ("afspraken bijgestuurd", "agreements adjusted"),
        "referral_to_service": ("doorverwijzing", "referral to a service"),
        "other": ("andere", "other"),
    },
    BoundaryResolution: {
        "resolved": ("opgelost", "resolved"), "agreements_made": ("afspraken gemaakt", "agreements made"),
        "referred": ("doorverwezen", "referred"),
        "duo_paused_or_ended": ("duo gepauzeerd of beëindigd", "duo paused or ended"),
        "no_action_needed": ("geen actie nodig", "no action needed"), "other": ("andere", "other"),
    },
    GoalDomain: {
        "social_network": ("sociaal netwerk", "social network"), "leisure": ("vrije tijd", "leisure"),
        "language": ("taal", "language"), "work_or_education": ("werk of opleiding", "work or education"),
        "housing": ("wonen", "housing"), "finances": ("financiën", "finances"), "health": ("gezondheid", "health"),
        "wellbeing": ("welbevinden", "wellbeing"), "self_reliance": ("zelfredzaamheid", "self-reliance"),
        "parenting": ("opvoeding", "parenting"), "digital_skills": ("digitale vaardigheden", "digital skills"),
        "other": ("andere", "other"),
    },
    GoalOutcome: {
        "achieved": ("bereikt", "achieved"), "partly_achieved": ("deels bereikt", "partly achieved"),
        "not_achieved": ("niet bereikt", "not achieved"), "dropped": ("stopgezet", "dropped"),
    },
    EvaluationMoment: {
        "start": ("beginmeting", "start"), "mid": ("tussentijdse evaluatie", "mid-term"),
        "final": ("eindevaluatie", "final"),
    },
    FollowUpCallOutcome: {
        "reached": ("bereikt", "reached"), "not_reachable": ("niet bereikbaar", "not reachable"),
        "declined": ("wil niet meewerken", "declined"),
    },
    NetworkChange: {
        "grown": ("gegroeid", "grown"), "unchanged": ("gelijk gebleven", "unchanged"),
        "shrunk": ("gekrompen", "shrunk"),
    },
    PolicyTheme: {
        "access_to_services": ("toegang tot diensten", "access to services"),
        "digital_barriers": ("digitale drempels", "digital barriers"),
        "finances": ("financiën", "finances"), "housing": ("wonen", "housing"), "mobility": ("mobiliteit", "mobility"),
        "health_care": ("gezondheidszorg", "health care"), "education": ("onderwijs", "education"),
        "other": ("andere", "other"),
    },
}

NAMES: dict[type[StrEnum], str] = {
    ContactMode: "contact_modes", Activity: "activities", ContactRetractionReason: "retraction_reasons",
    CoachingKind: "coaching_kinds", CoachingTheme: "coaching_themes", BoundarySignalType: "boundary_signal_types",
    BoundarySeverity: "boundary_severities", BoundaryRaisedBy: "boundary_raised_by",
    BoundaryFollowUpAction: "boundary_follow_up_actions", BoundaryResolution: "boundary_resolutions",
    GoalDomain: "goal_domains", GoalOutcome: "goal_outcomes", EvaluationMoment: "evaluation_moments",
    FollowUpCallOutcome: "call_outcomes", NetworkChange: "network_changes", PolicyTheme: "policy_themes",
}


def vocabularies() -> dict[str, dict[str, dict[str, str]]]:
    """``{vocabulary: {code: {"nl": ..., "en": ...}}}`` for every vocabulary, in code order."""
    return {NAMES[enum]: {member.value: {"nl": LABELS[enum][member.value][0], "en": LABELS[enum][member.value][1]}
                          for member in enum}
            for enum in NAMES}
