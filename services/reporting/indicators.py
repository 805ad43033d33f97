"""The indicator catalogue: what every published figure means, how it is computed, in which
unit, from which events, and by which dimensions it can be broken down.

``docs/indicators.md`` is generated from this module (``python -m services.reporting.indicators``
writes it; a test checks the file is current). The report kinds take titles, units and
definitions from here, so a report and its documentation cannot drift apart.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from shared.contracts.common import TargetGroup
from shared.contracts.followup import (
    Activity, BoundaryResolution, BoundarySeverity, BoundarySignalType, CoachingKind, CoachingTheme, ContactMode,
    GoalDomain, GoalOutcome, PolicyTheme)
from shared.contracts.matching import EndReason, LifeDomain, PauseReason, ReferrerType, WithdrawalReason
from shared.contracts.recruitment import KeepWarmKind, RecruitmentChannel, StopReason
from services.reporting.document import Definition, Text

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"

# --------------------------------------------------------------------------- dimensions
SCOPES = ("project", "region", "flanders")
PERIODS = ("month", "quarter", "year")

DIMENSIONS: dict[str, Text] = {
    "project": Text(nl="project", en="project"),
    "region": Text(nl="regio (lerend netwerk)", en="region (learning network)"),
    "flanders": Text(nl="heel Vlaanderen", en="all of Flanders"),
    "month": Text(nl="maand", en="month"),
    "quarter": Text(nl="kwartaal", en="quarter"),
    "year": Text(nl="jaar", en="year"),
    "target_group": Text(nl="doelgroep", en="target group"),
    "channel": Text(nl="wervingskanaal", en="recruitment channel"),
    "stop_reason": Text(nl="reden van stoppen", en="reason for stopping"),
    "wait_band": Text(nl="wachttijd (klasse)", en="waiting time (band)"),
    "keep_warm_kind": Text(nl="soort contact", en="kind of contact"),
    "referrer_type": Text(nl="verwijzer", en="referrer"),
    "life_domain": Text(nl="levensdomein", en="life domain"),
    "withdrawal_reason": Text(nl="reden van afhaken", en="reason for withdrawal"),
    "proposal_outcome": Text(nl="afloop van het voorstel", en="outcome of the proposal"),
    "end_reason": Text(nl="reden van einde", en="end reason"),
    "planned": Text(nl="gepland of niet", en="planned or not"),
    "pause_reason": Text(nl="reden van pauze", en="reason for the pause"),
    "contact_mode": Text(nl="vorm van contact", en="contact mode"),
    "activity": Text(nl="activiteit", en="activity"),
    "coaching_kind": Text(nl="soort coaching", en="kind of coaching"),
    "coaching_theme": Text(nl="thema", en="theme"),
    "signal_type": Text(nl="soort grenssignaal", en="kind of boundary signal"),
    "severity": Text(nl="ernst", en="severity"),
    "resolution": Text(nl="afhandeling", en="resolution"),
    "goal_domain": Text(nl="domein van het doel", en="goal domain"),
    "goal_outcome": Text(nl="resultaat", en="outcome"),
    "wellbeing_change": Text(nl="verandering welbevinden", en="change in wellbeing"),
    "network_change": Text(nl="verandering netwerk", en="change in network"),
    "call_status": Text(nl="stand van het gesprek", en="status of the call"),
    "call_result": Text(nl="resultaat van het gesprek", en="result of the call"),
    "policy_theme": Text(nl="thema", en="theme"),
}

# --------------------------------------------------------------------------- vocabularies


def _t(nl: str, en: str) -> Text:
    return Text(nl=nl, en=en)


UNKNOWN = "unknown"

WAIT_BANDS: dict[str, Text] = {
    "lt_1m": _t("minder dan 1 maand", "less than 1 month"),
    "1_3m": _t("1 tot 3 maanden", "1 to 3 months"),
    "3_6m": _t("3 tot 6 maanden", "3 to 6 months"),
    "6m_plus": _t("6 maanden of langer", "6 months or more"),
    UNKNOWN: _t("onbekend", "unknown"),
}


def wait_band(days: int | None) -> str:
    """Days of waiting in a band: < 31, 31–91, 92–182, ≥ 183 days (unknown when not known)."""
    if days is None:
        return UNKNOWN
    if days < 31:
        return "lt_1m"
    if days < 92:
        return "1_3m"
    if days < 183:
        return "3_6m"
    return "6m_plus"


def _vocab(enum: type[StrEnum], labels: dict[str, tuple[str, str]]) -> dict[str, Text]:
    missing = {m.value for m in enum} - set(labels)
    if missing:
        raise ValueError(f"{enum.__name__}: no labels for {sorted(missing)}")
    return {m.value: _t(*labels[m.value]) for m in enum}


VOCABULARIES: dict[str, dict[str, Text]] = {
    "target_group": {**_vocab(TargetGroup, {
        "individual_adult": ("volwassene (individueel)", "adult (individual)"), "family": ("gezin", "family"),
        "child": ("kind", "child"), "youth": ("jongere", "young person")}),
        UNKNOWN: _t("onbekend", "unknown")},
    "channel": _vocab(RecruitmentChannel, {
        "word_of_mouth": ("mond-tot-mondreclame", "word of mouth"), "website": ("website", "website"),
        "volunteer_platform": ("vrijwilligersplatform", "volunteer platform"),
        "other_volunteer_work": ("ander vrijwilligerswerk in de organisatie", "other volunteer work in the organisation"),
        "social_media": ("sociale media", "social media"), "event": ("evenement", "event"),
        "referral": ("doorverwijzing", "referral"), "other": ("andere", "other")}),
    "stop_reason": _vocab(StopReason, {
        "not_approved": ("niet goedgekeurd na screening", "not approved in screening"), "no_time": ("geen tijd", "no time"),
        "health": ("gezondheid", "health"), "moved": ("verhuisd", "moved"),
        "waited_too_long": ("te lang gewacht op een match", "waited too long for a match"),
        "other_volunteer_work": ("ander vrijwilligerswerk", "other volunteer work"),
        "personal_circumstances": ("persoonlijke omstandigheden", "personal circumstances"), "other": ("andere", "other")}),
    "wait_band": WAIT_BANDS,
    "keep_warm_kind": _vocab(KeepWarmKind, {
        "call": ("telefoontje", "call"), "activity_invitation": ("uitnodiging voor een activiteit", "invitation to an activity"),
        "meeting_place_invitation": ("uitnodiging voor een ontmoetingsmoment", "invitation to a meeting place"),
        "message": ("bericht", "message"), "other": ("andere", "other")}),
    "referrer_type": _vocab(ReferrerType, {
        "mental_health_centre": ("centrum geestelijke gezondheidszorg (CGG)", "mental-health centre"),
        "social_services": ("OCMW / sociale dienst", "social services (OCMW)"), "school": ("school", "school"),
        "youth_care": ("jeugdhulp", "youth care"), "general_practitioner": ("huisarts", "general practitioner"),
        "self": ("zelf aangemeld", "self-referred"), "other": ("andere", "other")}),
    "life_domain": _vocab(LifeDomain, {
        "poverty": ("armoede", "poverty"), "psychological_vulnerability": ("psychische kwetsbaarheid", "psychological vulnerability"),
        "isolation": ("isolement", "isolation"), "newcomer": ("nieuwkomer / vluchteling", "newcomer / refugee"),
        "addiction": ("verslaving", "addiction"), "other": ("andere", "other")}),
    "withdrawal_reason": _vocab(WithdrawalReason, {
        "no_longer_needed": ("niet meer nodig", "no longer needed"),
        "other_support_found": ("andere ondersteuning gevonden", "other support found"), "moved": ("verhuisd", "moved"),
        "not_reachable": ("niet bereikbaar", "not reachable"), "waited_too_long": ("te lang gewacht", "waited too long"),
        "declined_offer": ("aanbod geweigerd", "declined the offer"),
        "personal_circumstances": ("persoonlijke omstandigheden", "personal circumstances"),
        "erasure_requested": ("wissing van gegevens gevraagd", "erasure requested"), "other": ("andere", "other")}),
    "proposal_outcome": {
        "started": _t("duo gestart", "duo started"), "declined": _t("geweigerd", "declined"),
        "open": _t("nog open", "still open")},
    "end_reason": _vocab(EndReason, {
        "goals_reached": ("doelen bereikt / deelnemer zelfstandiger", "goals reached / participant more independent"),
        "volunteer_stopped": ("buddy gestopt", "volunteer stopped"),
        "participant_stopped": ("deelnemer gestopt", "participant stopped"), "moved": ("verhuisd", "moved"),
        "mismatch": ("geen goede match", "mismatch"), "boundary_problem": ("grensoverschrijding", "boundary problem"),
        "other": ("andere", "other")}),
    "planned": {"planned": _t("gepland", "planned"), "unplanned": _t("niet gepland", "unplanned")},
    "pause_reason": {**_vocab(PauseReason, {
        "holiday": ("vakantie", "holiday"), "illness": ("ziekte", "illness"),
        "personal_circumstances": ("persoonlijke omstandigheden", "personal circumstances"), "crisis": ("crisis", "crisis"),
        "other": ("andere", "other")}), UNKNOWN: _t("niet opgegeven", "not given")},
    "contact_mode": _vocab(ContactMode, {
        "in_person": ("fysiek", "in person"), "phone": ("telefoon", "phone"), "video": ("video", "video"),
        "message": ("bericht", "message")}),
    "activity": _vocab(Activity, {
        "walk": ("wandeling", "walk"), "coffee_or_chat": ("koffie of babbel", "coffee or a chat"),
        "shopping": ("boodschappen", "shopping"), "leisure_or_culture": ("vrije tijd of cultuur", "leisure or culture"),
        "sport": ("sport", "sport"), "accompany_food_bank": ("begeleiding naar de voedselbank", "accompanying to the food bank"),
        "accompany_union": ("begeleiding naar de vakbond", "accompanying to the union"),
        "accompany_school": ("begeleiding naar school", "accompanying to school"),
        "accompany_doctor": ("begeleiding naar de dokter", "accompanying to the doctor"),
        "accompany_administration": ("begeleiding bij administratie of diensten", "accompanying to administration or services"),
        "playground_or_children_activity": ("speeltuin of activiteit met kinderen", "playground or activity with children"),
        "other": ("andere", "other")}),
    "coaching_kind": _vocab(CoachingKind, {
        "individual": ("individuele coaching", "individual coaching"), "group": ("groepsvorming", "group session"),
        "intervision": ("intervisie", "intervision")}),
    "coaching_theme": _vocab(CoachingTheme, {
        "role_of_the_buddy": ("rol van de buddy", "role of the buddy"), "boundaries": ("grenzen", "boundaries"),
        "communication": ("communicatie", "communication"),
        "motivation_and_expectations": ("motivatie en verwachtingen", "motivation and expectations"),
        "poverty_and_vulnerability": ("armoede en kwetsbaarheid", "poverty and vulnerability"),
        "mental_health": ("psychisch welzijn", "mental health"),
        "cultural_sensitivity": ("cultuursensitiviteit", "cultural sensitivity"),
        "practical_questions": ("praktische vragen", "practical questions"),
        "ending_the_duo": ("afronden van het duo", "ending the duo"), "self_care": ("zelfzorg", "self-care"),
        "other": ("andere", "other")}),
    "signal_type": _vocab(BoundarySignalType, {
        "money_or_goods_asked": ("vraag naar geld of goederen", "money or goods asked"),
        "over_demand_or_availability": ("te veel vraag of beschikbaarheid", "over-demand or availability"),
        "crisis": ("crisis", "crisis"), "safety": ("veiligheid", "safety"), "conflict": ("conflict", "conflict"),
        "other": ("andere", "other")}),
    "severity": _vocab(BoundarySeverity, {
        "low": ("laag", "low"), "medium": ("middel", "medium"), "high": ("hoog", "high"),
        "critical": ("kritiek", "critical")}),
    "resolution": _vocab(BoundaryResolution, {
        "resolved": ("opgelost", "resolved"), "agreements_made": ("afspraken gemaakt", "agreements made"),
        "referred": ("doorverwezen", "referred"),
        "duo_paused_or_ended": ("duo gepauzeerd of beëindigd", "duo paused or ended"),
        "no_action_needed": ("geen actie nodig", "no action needed"), "other": ("andere", "other")}),
    "goal_domain": _vocab(GoalDomain, {
        "social_network": ("sociaal netwerk", "social network"), "leisure": ("vrije tijd", "leisure"),
        "language": ("taal", "language"), "work_or_education": ("werk of opleiding", "work or education"),
        "housing": ("wonen", "housing"), "finances": ("financiën", "finances"), "health": ("gezondheid", "health"),
        "wellbeing": ("welbevinden", "wellbeing"), "self_reliance": ("zelfredzaamheid", "self-reliance"),
        "parenting": ("opvoeding", "parenting"), "digital_skills": ("digitale vaardigheden", "digital skills"),
        "other": ("andere", "other")}),
    "goal_outcome": _vocab(GoalOutcome, {
        "achieved": ("bereikt", "achieved"), "partly_achieved": ("deels bereikt", "partly achieved"),
        "not_achieved": ("niet bereikt", "not achieved"), "dropped": ("stopgezet", "dropped")}),
    "wellbeing_change": {
        "improved": _t("beter", "improved"), "same": _t("gelijk", "same"), "declined": _t("slechter", "worse")},
    "network_change": {
        "improved": _t("groter", "larger"), "same": _t("gelijk", "same"), "declined": _t("kleiner", "smaller")},
    "call_status": {
        "reached_grown": _t("bereikt, netwerk gegroeid", "reached, network grown"),
        "reached_unchanged": _t("bereikt, netwerk gelijk", "reached, network unchanged"),
        "reached_shrunk": _t("bereikt, netwerk gekrompen", "reached, network shrunk"),
        "reached_unknown": _t("bereikt, netwerk niet bevraagd", "reached, network not asked"),
        "not_reachable": _t("niet bereikbaar", "not reachable"),
        "declined": _t("wil niet meewerken", "declined"),
        "open": _t("nog niet afgerond", "not completed yet")},
    "call_result": {
        "reached": _t("bereikt", "reached"), "not_reachable": _t("niet bereikbaar", "not reachable"),
        "declined": _t("wil niet meewerken", "declined"), "open": _t("nog niet afgerond", "not completed yet")},
    "policy_theme": _vocab(PolicyTheme, {
        "access_to_services": ("toegang tot diensten", "access to services"),
        "digital_barriers": ("digitale drempels", "digital barriers"), "finances": ("financiën", "finances"),
        "housing": ("wonen", "housing"), "mobility": ("mobiliteit", "mobility"),
        "health_care": ("gezondheidszorg", "health care"), "education": ("onderwijs", "education"),
        "other": ("andere", "other")}),
}

CALL_RESULT_OF = {"reached_grown": "reached", "reached_unchanged": "reached", "reached_shrunk": "reached",
                  "reached_unknown": "reached", "not_reachable": "not_reachable", "declined": "declined",
                  "open": "open"}

# --------------------------------------------------------------------------- indicators
Kind = Literal["count", "statistic", "share", "text"]


@dataclass(frozen=True)
class Indicator:
    code: str
    section: str
    kind: Kind
    title: Text
    formula: Text
    unit: Text
    sources: tuple[str, ...]
    dimensions: tuple[str, ...]

    def definition(self) -> Definition:
        return Definition(indicator=self.code, title=self.title, formula=self.formula, unit=self.unit,
                          sources=list(self.sources))


@dataclass(frozen=True)
class SectionInfo:
    key: str
    title: Text
    intro: Text


SECTIONS: dict[str, SectionInfo] = {s.key: s for s in (
    SectionInfo("volunteers", _t("Vrijwilligers: van aanmelding tot duo", "Volunteers: from enquiry to duo"),
                _t("Hoeveel vrijwilligers elke stap van het traject bereikten in de periode, en hoe lang ze wachtten.",
                   "How many volunteers reached each step of the journey in the period, and how long they waited.")),
    SectionInfo("participants", _t("Deelnemers", "Participants"),
                _t("Wie werd aangemeld, door wie, en hoe lang deelnemers op een buddy wachtten.",
                   "Who was referred, by whom, and how long participants waited for a buddy.")),
    SectionInfo("duos", _t("Duo's", "Duos"),
                _t("Voorstellen, gestarte, lopende en beëindigde duo's en hun duur.",
                   "Proposals, duos started, running and ended, and how long they lasted.")),
    SectionInfo("contacts", _t("Contacten van duo's", "Contacts of duos"),
                _t("Hoe vaak duo's elkaar zagen of spraken, hoe, en wat ze deden; begeleiding naar diensten apart.",
                   "How often duos met or spoke, how, and what they did; accompanying to services separately.")),
    SectionInfo("coaching", _t("Coaching van vrijwilligers", "Coaching of volunteers"),
                _t("Coaching, vorming en intervisie door de begeleiders.",
                   "Coaching, group sessions and intervision by the professionals.")),
    SectionInfo("boundaries", _t("Grenssignalen", "Boundary signals"),
                _t("Signalen over grenzen in duo's, hun ernst en hoe snel ze afgehandeld werden.",
                   "Signals about boundaries in duos, their severity and how fast they were resolved.")),
    SectionInfo("impact", _t("Doelen en evaluaties", "Goals and evaluations"),
                _t("Persoonsgerichte doelen en de verandering in welbevinden en netwerk tussen begin- en eindevaluatie.",
                   "Person-centred goals and the change in wellbeing and network between start and final evaluation.")),
    SectionInfo("followup_calls", _t("Opvolggesprekken na het duo", "Follow-up calls after the duo"),
                _t("De telefoonronde enkele maanden na het einde van een duo.",
                   "The phone round some months after a duo ended.")),
    SectionInfo("policy", _t("Beleidssignalen", "Policy signals"),
                _t("Structurele drempels uit het werkveld, per thema; samenvattingen alleen waar het thema vaak genoeg "
                   "voorkomt.",
                   "Structural barriers seen in the field, by theme; summaries only where the theme occurs often "
                   "enough.")),
)}

SCOPE_PERIOD = SCOPES + PERIODS
_VOL = _t("vrijwilligers", "volunteers")
_PART = _t("deelnemers", "participants")
_DUOS = _t("duo's", "duos")
_DAYS = _t("dagen", "days")


def _i(code: str, section: str, kind: Kind, title: tuple[str, str], formula: tuple[str, str], unit: Text,
       sources: tuple[str, ...], dimensions: tuple[str, ...] = SCOPE_PERIOD) -> Indicator:
    return Indicator(code, section, kind, _t(*title), _t(*formula), unit, sources, dimensions)


CATALOGUE: tuple[Indicator, ...] = (
    # ----------------------------------------------------------------- volunteers
    _i("volunteers_enquired", "volunteers", "count", ("Aanmeldingen van vrijwilligers", "Volunteer enquiries"),
       ("Aantal vrijwilligers van wie de aanmelding in de periode valt, per wervingskanaal.",
        "Number of volunteers whose enquiry falls in the period, by recruitment channel."),
       _VOL, ("VolunteerEnquiryReceived",), SCOPE_PERIOD + ("channel",)),
    _i("volunteers_intake", "volunteers", "count", ("Intakegesprekken", "Intake interviews"),
       ("Aantal vrijwilligers met een intakegesprek in de periode.",
        "Number of volunteers whose intake interview took place in the period."),
       _VOL, ("VolunteerIntakeHeld",)),
    _i("volunteers_approved", "volunteers", "count", ("Goedgekeurd na screening", "Approved in screening"),
       ("Aantal vrijwilligers met een screening in de periode met uitkomst 'goedgekeurd'.",
        "Number of volunteers screened in the period with outcome 'approved'."),
       _VOL, ("VolunteerScreened",)),
    _i("volunteers_coached", "volunteers", "count", ("Coaching of vorming gestart", "Coaching or training started"),
       ("Aantal vrijwilligers van wie de eerste coaching- of vormingssessie in de periode valt.",
        "Number of volunteers whose first coaching or training session falls in the period."),
       _VOL, ("VolunteerTrained",)),
    _i("volunteers_available", "volunteers", "count", ("Beschikbaar gekomen", "Became available"),
       ("Aantal vrijwilligers die in de periode voor het eerst beschikbaar werden voor matching.",
        "Number of volunteers who first became available for matching in the period."),
       _VOL, ("VolunteerMadeAvailable",)),
    _i("volunteers_in_duo", "volunteers", "count", ("In een eerste duo", "In a first duo"),
       ("Aantal vrijwilligers van wie het eerste duo in de periode startte, per wachttijd sinds ze beschikbaar werden.",
        "Number of volunteers whose first duo started in the period, by waiting time since they became available."),
       _VOL, ("VolunteerJoinedDuo", "VolunteerMadeAvailable"), SCOPE_PERIOD + ("wait_band",)),
    _i("volunteers_stopped", "volunteers", "count", ("Gestopte vrijwilligers", "Volunteers who stopped"),
       ("Aantal vrijwilligers die in de periode stopten, per reden.",
        "Number of volunteers who stopped in the period, by reason."),
       _VOL, ("VolunteerStopped",), SCOPE_PERIOD + ("stop_reason",)),
    _i("volunteer_funnel", "volunteers", "count", ("Traject van vrijwilligers", "Volunteer journey"),
       ("De totalen van de zeven stappen hierboven naast elkaar (elke stap is een aparte groep vrijwilligers "
        "in de periode; de stappen worden niet opgeteld).",
        "The totals of the seven steps above side by side (each step is its own group of volunteers in the "
        "period; the steps are not added up)."),
       _VOL, ("VolunteerEnquiryReceived", "VolunteerIntakeHeld", "VolunteerScreened", "VolunteerTrained",
              "VolunteerMadeAvailable", "VolunteerJoinedDuo", "VolunteerStopped")),
    _i("volunteer_waiting_days_median", "volunteers", "statistic",
       ("Wachttijd van vrijwilligers (mediaan)", "Waiting time of volunteers (median)"),
       ("Mediaan van het aantal dagen tussen de eerste keer beschikbaar en de start van het eerste duo, over de "
        "vrijwilligers van wie het eerste duo in de periode startte. Een duo gedateerd vóór de beschikbaarheid "
        "(enkel in een oudere geschiedenis) telt niet mee: die wachttijd is onbekend, niet nul.",
        "Median number of days from first becoming available to the start of the first duo, over the volunteers "
        "whose first duo started in the period. A duo dated before the availability (only in an older history) "
        "is left out: that wait is unknown, not zero."),
       _DAYS, ("VolunteerMadeAvailable", "VolunteerJoinedDuo")),
    _i("volunteer_waiting_days_mean", "volunteers", "statistic",
       ("Wachttijd van vrijwilligers (gemiddelde)", "Waiting time of volunteers (mean)"),
       ("Gemiddelde van dezelfde wachttijden.", "Mean of the same waiting times."),
       _DAYS, ("VolunteerMadeAvailable", "VolunteerJoinedDuo")),
    _i("keep_warm_contacts", "volunteers", "count", ("Warmhoudcontacten", "Keep-warm contacts"),
       ("Aantal warmhoudcontacten met vrijwilligers in de periode, per soort.",
        "Number of keep-warm contacts with volunteers in the period, by kind."),
       _t("contacten", "contacts"), ("VolunteerKeptWarm",), SCOPE_PERIOD + ("keep_warm_kind",)),
    # ----------------------------------------------------------------- participants
    _i("participants_referred", "participants", "count", ("Aangemelde deelnemers", "Participants referred"),
       ("Aantal deelnemers van wie de aanmelding (verwijzing) in de periode valt, per doelgroep en per verwijzer.",
        "Number of participants whose referral falls in the period, by target group and by referrer."),
       _PART, ("ParticipantReferred",), SCOPE_PERIOD + ("target_group", "referrer_type")),
    _i("participant_life_domains", "participants", "count",
       ("Levensdomeinen van aangemelde deelnemers", "Life domains of referred participants"),
       ("Per levensdomein: aantal in de periode aangemelde deelnemers bij wie het domein speelt. Een deelnemer kan "
        "meerdere domeinen hebben: de rijen tellen niet op tot het aantal deelnemers.",
        "Per life domain: number of participants referred in the period for whom the domain applies. A participant "
        "may have several domains: the rows do not add up to the number of participants."),
       _PART, ("ParticipantReferred",), SCOPES + ("life_domain",)),
    _i("participants_intake", "participants", "count", ("Intakegesprekken met deelnemers", "Participant intakes"),
       ("Aantal deelnemers met een intakegesprek in de periode.",
        "Number of participants whose intake interview took place in the period."),
       _PART, ("ParticipantIntakeHeld",)),
    _i("participants_withdrawn", "participants", "count", ("Afgehaakte deelnemers", "Participants withdrawn"),
       ("Aantal keer dat een deelnemer in de periode van de wachtlijst ging, per reden.",
        "Number of times a participant left the waiting list in the period, by reason."),
       _PART, ("ParticipantWithdrawn",), SCOPE_PERIOD + ("withdrawal_reason",)),
    _i("participants_returned", "participants", "count",
       ("Terug op de wachtlijst", "Back on the waiting list"),
       ("Aantal keer dat een deelnemer in de periode terug op de wachtlijst kwam (bv. na een duo dat niet klikte).",
        "Number of times a participant came back on the waiting list in the period (e.g. after a duo that did not "
        "work out)."),
       _PART, ("ParticipantReturnedToWaitingList",)),
    _i("participant_waiting_days_median", "participants", "statistic",
       ("Wachttijd van deelnemers (mediaan)", "Waiting time of participants (median)"),
       ("Mediaan van het aantal dagen tussen de aanmelding (of de terugkeer op de wachtlijst) en de start van het "
        "duo, over de duo's gestart in de periode. Een duo gedateerd vóór die dag (enkel in een oudere "
        "geschiedenis) telt niet mee: die wachttijd is onbekend, niet nul.",
        "Median number of days from referral (or return to the waiting list) to the start of the duo, over the "
        "duos started in the period. A duo dated before that day (only in an older history) is left out: that "
        "wait is unknown, not zero."),
       _DAYS, ("ParticipantReferred", "ParticipantReturnedToWaitingList", "DuoStarted")),
    _i("participant_waiting_days_mean", "participants", "statistic",
       ("Wachttijd van deelnemers (gemiddelde)", "Waiting time of participants (mean)"),
       ("Gemiddelde van dezelfde wachttijden.", "Mean of the same waiting times."),
       _DAYS, ("ParticipantReferred", "ParticipantReturnedToWaitingList", "DuoStarted")),
    # ----------------------------------------------------------------- duos
    _i("duo_proposals", "duos", "count", ("Voorgestelde duo's", "Duos proposed"),
       ("Aantal voorstellen van een buddy aan een deelnemer in de periode, naar hoe het voorstel afliep "
        "(zoals nu gekend).",
        "Number of proposals of a volunteer to a participant in the period, by how the proposal ended "
        "(as known now)."),
       _t("voorstellen", "proposals"), ("DuoProposed", "DuoDeclined", "DuoStarted"),
       SCOPE_PERIOD + ("proposal_outcome",)),
    _i("duos_started", "duos", "count", ("Gestarte duo's", "Duos started"),
       ("Aantal duo's met een startdatum in de periode, per doelgroep van de deelnemer en per wachttijd van de "
        "deelnemer.",
        "Number of duos with a start date in the period, by the participant's target group and waiting time."),
       _DUOS, ("DuoStarted", "ParticipantReferred"), SCOPE_PERIOD + ("target_group", "wait_band")),
    _i("duos_ended", "duos", "count", ("Beëindigde duo's", "Duos ended"),
       ("Aantal duo's met een einddatum in de periode, per doelgroep, en per reden en of het einde gepland was.",
        "Number of duos with an end date in the period, by target group, and by reason and whether the end was "
        "planned."),
       _DUOS, ("DuoEnded", "ParticipantReferred", "DuoStarted"), SCOPE_PERIOD + ("target_group", "end_reason", "planned")),
    _i("duos_active", "duos", "count", ("Lopende duo's in de periode", "Duos running in the period"),
       ("Aantal duo's die op minstens één dag van de periode liepen (gestart, niet beëindigd, niet gepauzeerd), "
        "per doelgroep.",
        "Number of duos running on at least one day of the period (started, not ended, not paused), by target "
        "group."),
       _DUOS, ("DuoStarted", "DuoEnded", "DuoPaused", "DuoResumed", "ParticipantReferred"),
       SCOPES + ("target_group",)),
    _i("duos_active_by_period", "duos", "count", ("Lopende duo's per maand, kwartaal of jaar",
                                                  "Duos running per month, quarter or year"),
       ("Per maand (kwartaal, jaar): aantal duo's die op minstens één dag ervan liepen. Een duo telt in elke "
        "periode waarin het liep: de rijen tellen niet op.",
        "Per month (quarter, year): number of duos running on at least one day of it. A duo counts in every "
        "period it ran: the rows do not add up."),
       _DUOS, ("DuoStarted", "DuoEnded", "DuoPaused", "DuoResumed"), SCOPE_PERIOD),
    _i("duos_paused", "duos", "count", ("Pauzes van duo's", "Pauses of duos"),
       ("Aantal pauzes van duo's die in de periode begonnen, per reden.",
        "Number of duo pauses that began in the period, by reason."),
       _t("pauzes", "pauses"), ("DuoPaused",), SCOPE_PERIOD + ("pause_reason",)),
    _i("duo_duration_months_median", "duos", "statistic", ("Duur van duo's (mediaan)", "Duration of duos (median)"),
       ("Mediaan van de duur (maanden van 30,44 dagen) van de duo's die in de periode eindigden.",
        "Median duration (months of 30.44 days) of the duos that ended in the period."),
       _t("maanden", "months"), ("DuoStarted", "DuoEnded")),
    _i("duo_duration_months_mean", "duos", "statistic", ("Duur van duo's (gemiddelde)", "Duration of duos (mean)"),
       ("Gemiddelde van dezelfde duur.", "Mean of the same durations."), _t("maanden", "months"),
       ("DuoStarted", "DuoEnded")),
    _i("duos_planned_end_share", "duos", "share", ("Gepland einde", "Planned end"),
       ("Beëindigde duo's met een gepland einde, in procent van alle duo's die in de periode eindigden.",
        "Ended duos whose end was planned, as a percentage of all duos that ended in the period."),
       _t("%", "%"), ("DuoEnded",), SCOPES),
    _i("participant_flow", "duos", "count", ("Van aanmelding tot einde", "From referral to end"),
       ("De totalen van aanmeldingen, intakes, voorstellen, gestarte en beëindigde duo's en afhakers naast elkaar "
        "(elke stap is een aparte groep in de periode; de stappen worden niet opgeteld).",
        "The totals of referrals, intakes, proposals, duos started and ended, and withdrawals side by side (each "
        "step is its own group in the period; the steps are not added up)."),
       _t("aantal", "count"), ("ParticipantReferred", "ParticipantIntakeHeld", "DuoProposed", "DuoStarted",
                               "DuoEnded", "ParticipantWithdrawn")),
    # ----------------------------------------------------------------- contacts
    _i("contacts", "contacts", "count", ("Contacten", "Contacts"),
       ("Aantal gelogde contacten van duo's met een contactdatum in de periode, per vorm en per doelgroep. Een "
        "verbeterd contact telt met zijn nieuwe waarden; een ingetrokken contact en een klad tellen niet.",
        "Number of logged contacts of duos with a contact date in the period, by mode and by target group. A "
        "corrected contact counts with its new values; a retracted contact and a draft do not count."),
       _t("contacten", "contacts"), ("ContactLogged", "ContactCorrected", "ContactRetracted", "DuoStarted",
                                      "ParticipantReferred"), SCOPE_PERIOD + ("contact_mode", "target_group")),
    _i("contact_activities", "contacts", "count", ("Activiteiten tijdens contacten", "Activities during contacts"),
       ("Per activiteit: aantal contacten in de periode met die activiteit. Een contact kan meerdere activiteiten "
        "hebben: de rijen tellen niet op.",
        "Per activity: number of contacts in the period with that activity. A contact may have several activities: "
        "the rows do not add up."),
       _t("contacten", "contacts"), ("ContactLogged", "ContactCorrected", "ContactRetracted"), SCOPES + ("activity",)),
    _i("contacts_accompaniment", "contacts", "count", ("Begeleiding naar diensten", "Accompanying to services"),
       ("Aantal contacten in de periode met minstens één begeleiding (voedselbank, vakbond, school, dokter, "
        "administratie).",
        "Number of contacts in the period with at least one accompaniment (food bank, union, school, doctor, "
        "administration)."),
       _t("contacten", "contacts"), ("ContactLogged", "ContactCorrected", "ContactRetracted")),
    _i("contacts_per_active_duo_month", "contacts", "statistic",
       ("Contacten per lopend duo per maand", "Contacts per running duo per month"),
       ("Contacten in de periode gedeeld door het aantal duo-maanden (per kalendermaand de duo's die er minstens "
        "één dag liepen). Getoond per maand, kwartaal of jaar en voor de hele periode.",
        "Contacts in the period divided by the number of duo-months (per calendar month, the duos running on at "
        "least one day of it). Shown per month, quarter or year and for the whole period."),
       _t("contacten per duo-maand", "contacts per duo-month"),
       ("ContactLogged", "ContactCorrected", "ContactRetracted", "DuoStarted", "DuoEnded", "DuoPaused", "DuoResumed")),
    _i("contact_minutes_mean", "contacts", "statistic", ("Duur van een contact (gemiddelde)",
                                                         "Length of a contact (mean)"),
       ("Gemiddeld aantal minuten per contact in de periode.", "Mean number of minutes per contact in the period."),
       _t("minuten", "minutes"), ("ContactLogged", "ContactCorrected", "ContactRetracted")),
    # ----------------------------------------------------------------- coaching
    _i("coaching_sessions", "coaching", "count", ("Coachingsessies", "Coaching sessions"),
       ("Aantal coachingsessies (individueel, groep, intervisie) in de periode, per soort.",
        "Number of coaching sessions (individual, group, intervision) in the period, by kind."),
       _t("sessies", "sessions"), ("CoachingSessionLogged",), SCOPE_PERIOD + ("coaching_kind",)),
    _i("coaching_themes", "coaching", "count", ("Thema's van coaching", "Coaching themes"),
       ("Per thema: aantal sessies in de periode over dat thema. Een sessie kan meerdere thema's hebben.",
        "Per theme: number of sessions in the period on that theme. A session may have several themes."),
       _t("sessies", "sessions"), ("CoachingSessionLogged",), SCOPES + ("coaching_theme",)),
    _i("coached_volunteers", "coaching", "count", ("Gecoachte vrijwilligers", "Volunteers coached"),
       ("Aantal verschillende vrijwilligers met minstens één coachingsessie in de periode.",
        "Number of distinct volunteers with at least one coaching session in the period."),
       _VOL, ("CoachingSessionLogged",), SCOPES),
    _i("coaching_minutes_per_volunteer", "coaching", "statistic",
       ("Coaching per vrijwilliger (minuten)", "Coaching per volunteer (minutes)"),
       ("Gemiddeld aantal minuten coaching per gecoachte vrijwilliger in de periode (een groepssessie telt voor "
        "elke deelnemende vrijwilliger).",
        "Mean minutes of coaching per coached volunteer in the period (a group session counts for every volunteer "
        "taking part)."),
       _t("minuten", "minutes"), ("CoachingSessionLogged",)),
    _i("coaching_sessions_per_volunteer", "coaching", "statistic",
       ("Sessies per gecoachte vrijwilliger", "Sessions per coached volunteer"),
       ("Gemiddeld aantal sessies per gecoachte vrijwilliger in de periode.",
        "Mean number of sessions per coached volunteer in the period."),
       _t("sessies", "sessions"), ("CoachingSessionLogged",)),
    # ----------------------------------------------------------------- boundary signals
    _i("boundary_signals", "boundaries", "count", ("Grenssignalen", "Boundary signals"),
       ("Aantal grenssignalen gemeld in de periode, per soort en per ernst (bij de melding).",
        "Number of boundary signals raised in the period, by kind and by severity (when raised)."),
       _t("signalen", "signals"), ("BoundarySignalRaised",), SCOPE_PERIOD + ("signal_type", "severity")),
    _i("boundary_signals_resolved", "boundaries", "count", ("Afgehandelde grenssignalen", "Boundary signals resolved"),
       ("Aantal grenssignalen afgehandeld in de periode, per afhandeling.",
        "Number of boundary signals resolved in the period, by resolution."),
       _t("signalen", "signals"), ("BoundarySignalResolved",), SCOPE_PERIOD + ("resolution",)),
    _i("boundary_resolution_days_median", "boundaries", "statistic",
       ("Tijd tot afhandeling (mediaan)", "Time to resolution (median)"),
       ("Mediaan van het aantal dagen tussen melding en afhandeling, over de signalen afgehandeld in de periode.",
        "Median number of days from raising to resolution, over the signals resolved in the period."),
       _DAYS, ("BoundarySignalRaised", "BoundarySignalResolved")),
    _i("boundary_resolution_days_mean", "boundaries", "statistic",
       ("Tijd tot afhandeling (gemiddelde)", "Time to resolution (mean)"),
       ("Gemiddelde van dezelfde tijden.", "Mean of the same times."), _DAYS,
       ("BoundarySignalRaised", "BoundarySignalResolved")),
    # ----------------------------------------------------------------- goals and evaluations
    _i("goals_set", "impact", "count", ("Gestelde doelen", "Goals set"),
       ("Aantal persoonsgerichte doelen gesteld in de periode, per domein.",
        "Number of person-centred goals set in the period, by domain."),
       _t("doelen", "goals"), ("GoalSet",), SCOPE_PERIOD + ("goal_domain",)),
    _i("goals_closed", "impact", "count", ("Afgesloten doelen", "Goals closed"),
       ("Aantal doelen afgesloten in de periode, per resultaat.", "Number of goals closed in the period, by outcome."),
       _t("doelen", "goals"), ("GoalClosed",), SCOPE_PERIOD + ("goal_outcome",)),
    _i("goal_progress_mean", "impact", "statistic", ("Vooruitgang op doelen", "Progress on goals"),
       ("Gemiddelde van (laatste score − beginscore) op de schaal 0–10, over de doelen afgesloten in de periode "
        "met minstens één voortgangsscore.",
        "Mean of (latest score − baseline) on the 0–10 scale, over the goals closed in the period with at least "
        "one progress score."),
       _t("punten (0–10)", "points (0–10)"), ("GoalSet", "GoalProgressRecorded", "GoalClosed")),
    _i("goals_achieved_share", "impact", "share", ("Doelen bereikt", "Goals achieved"),
       ("Doelen met resultaat 'bereikt', in procent van de doelen afgesloten in de periode.",
        "Goals with outcome 'achieved', as a percentage of the goals closed in the period."),
       _t("%", "%"), ("GoalClosed",), SCOPES),
    _i("evaluation_changes", "impact", "count", ("Verandering tussen begin- en eindevaluatie",
                                                 "Change between start and final evaluation"),
       ("Aantal duo's met een eindevaluatie in de periode en een beginmeting, naar verandering in welbevinden "
        "(rijen) en in netwerkgrootte (kolommen).",
        "Number of duos with a final evaluation in the period and a start evaluation, by change in wellbeing "
        "(rows) and in network size (columns)."),
       _DUOS, ("EvaluationRecorded",), SCOPE_PERIOD + ("wellbeing_change", "network_change")),
    _i("wellbeing_change_mean", "impact", "statistic", ("Verandering in welbevinden", "Change in wellbeing"),
       ("Gemiddelde van (welbevinden bij de eindevaluatie − bij de beginmeting), schaal 0–10, over dezelfde duo's.",
        "Mean of (wellbeing at the final evaluation − at the start), scale 0–10, over the same duos."),
       _t("punten (0–10)", "points (0–10)"), ("EvaluationRecorded",)),
    _i("network_change_mean", "impact", "statistic", ("Verandering in netwerk", "Change in network"),
       ("Gemiddelde van (netwerkgrootte bij de eindevaluatie − bij de beginmeting), over dezelfde duo's.",
        "Mean of (network size at the final evaluation − at the start), over the same duos."),
       _t("personen", "people"), ("EvaluationRecorded",)),
    # ----------------------------------------------------------------- follow-up calls
    _i("followup_calls_due", "followup_calls", "count", ("Opvolggesprekken die vielen", "Follow-up calls due"),
       ("Aantal opvolggesprekken met een vervaldatum in de periode, naar hoe ze (nu) afliepen; bij bereikte "
        "deelnemers ook de verandering in hun netwerk.",
        "Number of follow-up calls due in the period, by how they ended (as known now); for participants reached "
        "also the change in their network."),
       _t("gesprekken", "calls"), ("FollowUpCallScheduled", "FollowUpCallCompleted", "FollowUpCallCancelled"),
       SCOPE_PERIOD + ("call_status", "call_result")),
    _i("followup_reach_share", "followup_calls", "share", ("Bereikt bij opvolging", "Reached at follow-up"),
       ("Bereikte deelnemers in procent van de opvolggesprekken die in de periode vielen.",
        "Participants reached as a percentage of the follow-up calls due in the period."),
       _t("%", "%"), ("FollowUpCallScheduled", "FollowUpCallCompleted", "FollowUpCallCancelled"), SCOPES),
    _i("still_in_contact_share", "followup_calls", "share", ("Nog contact met de buddy", "Still in touch with the buddy"),
       ("Bereikte deelnemers die nog contact hebben met hun buddy, in procent van de bereikte deelnemers.",
        "Participants reached who are still in touch with their buddy, as a percentage of the participants reached."),
       _t("%", "%"), ("FollowUpCallCompleted",), SCOPES),
    _i("followup_wellbeing_mean", "followup_calls", "statistic", ("Welbevinden bij opvolging",
                                                                  "Wellbeing at follow-up"),
       ("Gemiddeld welbevinden (0–10) van de bereikte deelnemers bij wie het bevraagd werd.",
        "Mean wellbeing (0–10) of the participants reached for whom it was asked."),
       _t("punten (0–10)", "points (0–10)"), ("FollowUpCallCompleted",)),
    # ----------------------------------------------------------------- policy signals
    _i("policy_signals", "policy", "count", ("Beleidssignalen", "Policy signals"),
       ("Aantal beleidssignalen vastgesteld in de periode, per thema.",
        "Number of policy signals observed in the period, by theme."),
       _t("signalen", "signals"), ("PolicySignalRecorded",), SCOPE_PERIOD + ("policy_theme",)),
    _i("policy_signal_summaries", "policy", "text", ("Samenvattingen van beleidssignalen", "Policy signal summaries"),
       ("De bevestigde, geanonimiseerde samenvattingen van de signalen in de periode, alleen voor thema's waarvan "
        "het aantal signalen getoond wordt en minstens de drempel haalt.",
        "The confirmed, anonymised summaries of the signals in the period, only for themes whose number of "
        "signals is shown and reaches at least the threshold."),
       _t("tekst", "text"), ("PolicySignalRecorded", "PolicySignalSummaryConfirmed"), SCOPES + ("policy_theme",)),
)

INDICATORS: dict[str, Indicator] = {i.code: i for i in CATALOGUE}
if len(INDICATORS) != len(CATALOGUE):  # pragma: no cover - a typo in the table above
    raise ValueError("indicator codes must be unique")


def indicator(code: str) -> Indicator:
    return INDICATORS[code]


def definitions(codes: list[str] | None = None) -> list[Definition]:
    return [i.definition() for i in CATALOGUE if codes is None or i.code in codes]


def label(vocabulary: str, code: str) -> Text:
    return VOCABULARIES[vocabulary].get(code) or Text(nl=code, en=code)


def as_json() -> dict[str, object]:
    """The catalogue for ``GET /indicators``."""
    return {
        "sections": {k: {"title": s.title.model_dump(), "intro": s.intro.model_dump()} for k, s in SECTIONS.items()},
        "dimensions": {k: v.model_dump() for k, v in DIMENSIONS.items()},
        "indicators": [
            {"code": i.code, "section": i.section, "kind": i.kind, "title": i.title.model_dump(),
             "formula": i.formula.model_dump(), "unit": i.unit.model_dump(), "sources": list(i.sources),
             "dimensions": list(i.dimensions)}
            for i in CATALOGUE],
    }


# --------------------------------------------------------------------------- docs/indicators.md
_KIND = {"count": ("aantal", "count"), "statistic": ("statistiek", "statistic"), "share": ("percentage", "share"),
         "text": ("tekst", "text")}


def markdown() -> str:
    """docs/indicators.md: Dutch first, English second, from the catalogue."""
    out = ["# Indicatoren / Indicators", "",
           "*Gegenereerd uit `services/reporting/indicators.py` (`python -m services.reporting.indicators`); "
           "niet met de hand bewerken. / Generated from `services/reporting/indicators.py`; do not edit by hand.*",
           ""]
    for lang in ("nl", "en"):
        out += _part(lang)
    return "\n".join(out).rstrip() + "\n"


def _part(lang: str) -> list[str]:
    nl = lang == "nl"
    pick = (lambda t: t.nl) if nl else (lambda t: t.en)
    out = ["---", "", "## Nederlands" if nl else "## English", ""]
    out += _INTRO_NL if nl else _INTRO_EN
    out += ["", "### Dimensies" if nl else "### Dimensions", "",
            "| code | " + ("betekenis" if nl else "meaning") + " |", "|---|---|"]
    out += [f"| `{k}` | {pick(v)} |" for k, v in DIMENSIONS.items()]
    for key, section in SECTIONS.items():
        out += ["", f"### {pick(section.title)}", "", pick(section.intro), ""]
        out += ["| code | " + (" | ".join(("indicator", "soort", "formule", "eenheid", "bronnen", "dimensies") if nl
                                         else ("indicator", "kind", "formula", "unit", "sources", "dimensions"))) + " |",
                "|---|---|---|---|---|---|---|"]
        for i in CATALOGUE:
            if i.section != key:
                continue
            kind = _KIND[i.kind][0 if nl else 1]
            sources = ", ".join(f"`{s}`" for s in i.sources)
            dims = ", ".join(f"`{d}`" for d in i.dimensions)
            out.append(f"| `{i.code}` | {pick(i.title)} | {kind} | {pick(i.formula)} | {pick(i.unit)} | {sources} | "
                       f"{dims} |")
    out += ["", "### Woordenlijsten" if nl else "### Vocabularies", ""]
    for name, codes in VOCABULARIES.items():
        out.append(f"- **`{name}`**: " + ", ".join(f"`{c}` {pick(t)}" for c, t in codes.items()))
    out.append("")
    out += _REPORTS_NL if nl else _REPORTS_EN
    out.append("")
    return out


_INTRO_NL = [
    "Elk cijfer van de rapportagedienst komt uit deze catalogus. Alle aantallen gaan door de statistische",
    "geheimhouding (`docs/disclosure.md`): kleine aantallen worden verborgen, de andere afgerond, en tabellen",
    "van dezelfde groep (bv. gestarte duo's per project, per maand, per doelgroep) worden samen beschermd.",
    "",
    "- **Periode.** Een rapport gaat over een periode (eerste tot laatste dag) in maanden, kwartalen of jaren.",
    "  Op basis `occurred` telt een feit in de periode waarin het gebeurde (de datum in het event, anders",
    "  `occurred_at`); op basis `recorded` in de periode waarin het geregistreerd werd (`recorded_at`).",
    "  \"Zoals gekend op datum X\" herbouwt de projecties met alleen de events die tot en met X geregistreerd",
    "  waren. Datums zijn UTC-datums.",
    "- **Eenheden.** Voor de overheid zijn de rijen regio's (heel Vlaanderen), voor een coördinator de",
    "  projecten van de regio, voor projectmedewerkers het eigen project. De regio is die van het project",
    "  zoals nu in het projectregister (ook voor vroegere periodes).",
    "- **Groepen.** Elke indicator telt één groep (bv. duo's gestart in de periode). De uitsplitsingen van",
    "  een groep (per eenheid, per periode, per doelgroep, per reden) worden samen beschermd; ze delen alleen",
    "  het totaal. Is dat totaal ergens verborgen, dan worden alle cellen van de groep (behalve nullen)",
    "  verborgen. De trajecttabellen herhalen alleen de totalen van de groepen.",
    "- **Statistieken** (gemiddelden, medianen, percentages) worden alleen getoond over minstens zoveel",
    "  eenheden als de drempel, en een percentage alleen als teller en noemer ook in de tabellen getoond",
    "  worden.",
    "- **Duur in maanden**: dagen gedeeld door 30,44.",
]
_INTRO_EN = [
    "Every figure of the reporting service comes from this catalogue. Every count goes through statistical",
    "disclosure control (`docs/disclosure.md`): small counts are hidden, the others rounded, and the tables of",
    "one group (e.g. duos started by project, by month, by target group) are protected together.",
    "",
    "- **Period.** A report covers a period (first to last day) in months, quarters or years. On the",
    "  `occurred` basis a fact counts in the period in which it happened (the event's date, else",
    "  `occurred_at`); on the `recorded` basis in the period in which it was recorded (`recorded_at`).",
    "  \"As known on date X\" rebuilds the projections from the events recorded up to and including X only.",
    "  Dates are UTC dates.",
    "- **Units.** For the government the rows are regions (all of Flanders), for a coordinator the projects of",
    "  the region, for project staff their own project. A project's region is the one in the project register",
    "  now (also for earlier periods).",
    "- **Groups.** Every indicator counts one group (e.g. duos started in the period). The breakdowns of a group",
    "  (by unit, by period, by target group, by reason) are protected together; they share only the total. When",
    "  that total is hidden anywhere, every cell of the group (zeros apart) is hidden. The journey tables only",
    "  repeat the groups' totals.",
    "- **Statistics** (means, medians, percentages) are shown only over at least as many units as the",
    "  threshold, and a percentage only when its numerator and denominator are shown in the tables too.",
    "- **Duration in months**: days divided by 30.44.",
]

_PARAMETERS = [
    "| parameter | type | default |",
    "|---|---|---|",
    "| `audience` | `government` \\| `coordinator` \\| `project` | — |",
    "| `region` | text (learning network) | — |",
    "| `project_id` | id | — |",
    "| `period_start` | ISO date, first day of a month / quarter / year | — |",
    "| `period_end` | ISO date, last day of a month / quarter / year (≤ 36 periods) | — |",
    "| `grain` | `month` \\| `quarter` \\| `year` | `month` |",
    "| `basis` | `occurred` \\| `recorded` | `occurred` |",
    "| `as_known_on` | ISO date | — |",
    "| `threshold`, `rounding_base` | int ≥ 1 | the audience's (the service sets its settings) |",
    "| `disclosure` | a complete `DisclosurePolicy` | the audience's, with the above |",
    "| `previous_pattern`, `previous_report_id` | the previous period's suppression pattern | filled in by `POST /reports` |",
]
_REPORTS_NL = [
    "### Het rapport `overview`",
    "",
    "`services.reporting.reports.compute(conn, \"overview\", parameters)` geeft een `ReportDocument` (als",
    "JSON-gegevens) met negen secties, in deze volgorde: vrijwilligers, deelnemers, duo's, contacten, coaching,",
    "grenssignalen, doelen en evaluaties, opvolggesprekken, beleidssignalen. Parameters (onbekende worden",
    "geweigerd, 422 met de veldnaam):",
    "",
    *_PARAMETERS,
    "",
    "- `coordinator` vraagt een `region` of een `project_id`, `project` een `project_id`. Zonder regio of project",
    "  gaat het rapport over heel Vlaanderen (rijen: regio's); met een regio over haar projecten; met een project",
    "  over dat project alleen.",
    "- **Toegang** (`POST /reports`, `GET /reports/overview`, `GET /reports/{id}`): heel Vlaanderen alleen voor",
    "  admins en auditors; een regio voor haar coördinatoren; een project voor zijn professionals en de",
    "  coördinatoren van zijn regio (anders 403; onbekend project of regio 404).",
    "- **Records.** `POST /reports` bewaart parameters (met het volledige geheimhoudingsbeleid), watermerk (de",
    "  positie per dienst), een SHA-256 van de inhoud en het onderdrukkingspatroon. `buddy audit reproduce <id>`",
    "  herbouwt tot het watermerk en vergelijkt de hash.",
    "- **Stabiel patroon.** Bij een nieuw rapport zoekt de dienst het rapport van de laatste vroegere periode met",
    "  dezelfde doelgroep, scope, indeling en basis; zijn patroon, verschoven naar de periodes van het nieuwe",
    "  (januari → januari van het volgende jaar, K1 → K2, ...), maakt dezelfde cellen goedkoper om te verbergen.",
    "- **Zoals gekend op X.** De dienst zoekt per producent de laatste positie geregistreerd op of voor X (23:59:59",
    "  UTC), herbouwt de projecties daartoe in een tijdelijke SQLite-databank en rekent het rapport daarop. De",
    "  kost is die van een herbouw van de geschiedenis tot X: lineair in het aantal events (zie de benchmark",
    "  `bench/reporting_bench.py`; enkele seconden per honderdduizend events over lokale feeds, meer over HTTP).",
    "  Op de live projecties weigert `compute` een `as_known_on` zodra er iets na X geregistreerd werd.",
    "  Rapporten met hetzelfde watermerk delen één herbouw (de laatste twee blijven bewaard); hoogstens",
    "  `BUDDY_AS_KNOWN_ON_REBUILDS` (1) herbouwen tegelijk en `BUDDY_AS_KNOWN_ON_WAITING` (2) wachten, daarboven",
    "  antwoordt de dienst 503 met `Retry-After` (bezet, probeer opnieuw). Een X na vandaag of voor het eerste",
    "  geregistreerde event wordt geweigerd (422).",
    "- **Verborgen cellen** hebben in de gepubliceerde inhoud allemaal dezelfde status (`forced`): welke klein",
    "  zijn en welke ze beschermen, zou net verraden wat beschermd moet worden.",
    "- **Projecties** (`services/reporting/read_models.py`) bevatten alleen pseudonieme id's, codes, datums en",
    "  getallen; de enige tekst is een bevestigde, geanonimiseerde samenvatting van een beleidssignaal (en de",
    "  publieke naam van een project). Migratie `0303` zet de checkpoints van de rapportagedienst op 0: de",
    "  draaiende dienst leest dan de hele geschiedenis opnieuw uit de feeds.",
    "",
    "### Beperkingen",
    "",
    "- Groepen die elkaar overlappen (bv. gestarte duo's en vrijwilligers in een eerste duo, of een levensdomein en",
    "  alle aanmeldingen) hangen via ongelijkheden samen, niet via totalen; de aanvaller in de tests gebruikt",
    "  alleen de gelijkheden binnen een groep.",
    "- De regio van een project is die van nu, ook voor vroegere periodes.",
    "- Datums zijn UTC-datums van `occurred_at` en `recorded_at`.",
]
_REPORTS_EN = [
    "### The `overview` report",
    "",
    "`services.reporting.reports.compute(conn, \"overview\", parameters)` returns a `ReportDocument` (as JSON data)",
    "with nine sections, in this order: volunteers, participants, duos, contacts, coaching, boundary signals, goals",
    "and evaluations, follow-up calls, policy signals. Parameters (unknown ones are refused, 422 naming the field):",
    "",
    *_PARAMETERS,
    "",
    "- `coordinator` needs a `region` or a `project_id`, `project` a `project_id`. Without region or project the",
    "  report covers all of Flanders (rows: regions); with a region its projects; with a project that project only.",
    "- **Access** (`POST /reports`, `GET /reports/overview`, `GET /reports/{id}`): all of Flanders only for admins",
    "  and auditors; a region for its coordinators; a project for its professionals and the coordinators of its",
    "  region (otherwise 403; an unknown project or region 404).",
    "- **Records.** `POST /reports` keeps the parameters (with the complete disclosure policy), the watermark (the",
    "  position per service), a SHA-256 of the content and the suppression pattern. `buddy audit reproduce <id>`",
    "  rebuilds to the watermark and compares the hash.",
    "- **Stable pattern.** For a new report the service looks up the report of the latest earlier period with the",
    "  same audience, scope, grain and basis; its pattern, shifted onto the new report's periods (January → January",
    "  of the next year, Q1 → Q2, ...), makes the same cells cheaper to hide.",
    "- **As known on X.** The service finds each producer's last position recorded on or before X (23:59:59 UTC),",
    "  rebuilds the projections up to there in a temporary SQLite database and computes the report on them. The",
    "  cost is a rebuild of the history up to X: linear in the number of events (see the benchmark",
    "  `bench/reporting_bench.py`; seconds per hundred thousand events over local feeds, more over HTTP). On live",
    "  projections `compute` refuses an `as_known_on` as soon as anything was recorded after X. Reports at the",
    "  same watermark share one rebuild (the last two are kept); at most `BUDDY_AS_KNOWN_ON_REBUILDS` (1) run at",
    "  once and `BUDDY_AS_KNOWN_ON_WAITING` (2) wait, beyond that the service answers 503 with `Retry-After`",
    "  (busy, try again). An X after today or before the first recorded event is refused (422).",
    "- **Hidden cells** all carry the same status (`forced`) in the published content: telling which are small and",
    "  which protect them would reveal exactly what is being protected.",
    "- **Projections** (`services/reporting/read_models.py`) hold pseudonymous ids, codes, dates and numbers only;",
    "  the one text is a confirmed, anonymised policy-signal summary (and a project's public name). Migration",
    "  `0303` resets the reporting service's checkpoints to 0: the running service then reads the whole history",
    "  again from the feeds.",
    "",
    "### Limitations",
    "",
    "- Groups that overlap (e.g. duos started and volunteers in a first duo, or a life domain and all referrals)",
    "  are linked by inequalities, not by totals; the attacker in the tests uses the equalities within a group.",
    "- A project's region is its current one, also for earlier periods.",
    "- Dates are UTC dates of `occurred_at` and `recorded_at`.",
]


if __name__ == "__main__":  # pragma: no cover - writes the docs
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOC_PATH
    target.write_text(markdown(), encoding="utf-8")
    print(f"wrote {target}")
