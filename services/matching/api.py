"""HTTP API of the matching service, for professionals of a project (and admins)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select

from shared.auth import Principal
from shared.contracts.common import LanguageCode, NisCode, TargetGroup
from shared.eventstore.db import reader
from shared.parameters import PathId, QueryId
from shared.service import correlation_of
from services.matching.domain import Duo, DuoStatus, Participant, Placement
from services.matching.handlers import (
    Answer,
    ChangePreferences,
    Decline,
    EndDuo,
    KickOff,
    MatchingHandlers,
    PauseDuo,
    ProposeDuo,
    RecordConsent,
    RecordIntake,
    ReferParticipant,
    ResumeDuo,
    ReturnToWaitingList,
    SetWeights,
    StartDuo,
    Withdraw,
)
from services.matching.read_models import participants
from services.matching.vocabularies import all_vocabularies

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]


DUO_RULES = ("The hard constraints are checked (409 naming each broken one); for a child, youth or family the "
             "volunteer must be screened for work with minors (criminal-record extract model 2 within "
             "BUDDY_SCREENING_EXTRACT_MAX_AGE_DAYS, valid insurance) on that day and today. The date may "
             "not precede the participant's referral nor the volunteer's availability (422 naming both).")


def router(handlers: MatchingHandlers, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["matching"])
    Caller = Annotated[Principal, Depends(principal_of)]

    def participant_answer(participant: Participant) -> dict[str, Any]:
        with reader(handlers.runtime.engine).connect() as conn:
            placement = conn.execute(select(participants.c.status)
                                     .where(participants.c.participant_id == participant.id)).scalar()
        return {"participant_id": participant.id, "status": placement, "version": participant.version,
                "personal_data_erased": participant.erased}

    def duo_answer(duo: Duo) -> dict[str, Any]:
        return {"duo_id": duo.id, "status": duo.status, "version": duo.version,
                "accepted_by": sorted(p.value for p in duo.accepted_by)}

    # ------------------------------------------------------------------ reference
    @api.get("/vocabularies", summary="Codes of every vocabulary with Dutch and English labels")
    def vocabularies(principal: Caller) -> dict[str, Any]:
        return all_vocabularies()

    # ------------------------------------------------------------------ participants
    @api.post("/projects/{project_id}/participants", status_code=status.HTTP_201_CREATED,
              summary="Record a participant's referral (aanmelding deelnemer); they join the waiting list")
    def refer(project_id: PathId, body: ReferParticipant, principal: Caller, request: Request) -> dict[str, Any]:
        participant = handlers.refer(project_id, body, principal, correlation_of(request))
        return participant_answer(participant)

    @api.get("/projects/{project_id}/participants", summary="Participants of a project, filterable, paginated")
    def list_participants(project_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                          placement: Annotated[list[Placement] | None, Query(alias="status")] = None,
                          target_group: TargetGroup | None = None,
                          municipality_nis: Annotated[NisCode | None, Query()] = None,
                          has_intake: bool | None = None,
                          name: Annotated[str | None, Query(min_length=1, max_length=200,
                                                            description="Name parts (blind index, exact per part).")] = None,
                          ) -> dict[str, Any]:
        return handlers.list_participants(project_id, principal, statuses=[p.value for p in placement or []],
                                          target_group=target_group, name=name, has_intake=has_intake,
                                          municipality_nis=municipality_nis, limit=limit, offset=offset)

    @api.get("/projects/{project_id}/waiting-list",
             summary="Who waits and since when, longest first, with the best current suggestions (wachtlijst)")
    def waiting_list(project_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                     target_group: TargetGroup | None = None,
                     municipality_nis: Annotated[NisCode | None, Query()] = None,
                     has_intake: bool | None = None, include_proposed: bool = False,
                     suggestions: Annotated[int | None, Query(ge=0, le=20, description="Suggestions per person.")] = None,
                     ) -> dict[str, Any]:
        return handlers.waiting_list(project_id, principal, target_group=target_group, has_intake=has_intake,
                                     municipality_nis=municipality_nis, include_proposed=include_proposed,
                                     suggestions=suggestions, limit=limit, offset=offset)

    @api.get("/participants/{participant_id}", summary="A participant, with personal data for their project's staff")
    def get_participant(participant_id: PathId, principal: Caller) -> dict[str, Any]:
        return handlers.participant_view(participant_id, principal)

    @api.get("/participants/{participant_id}/suggestions",
             summary="Volunteers ranked for this participant, every criterion explained (waarom deze buddy)")
    def suggestions(participant_id: PathId, principal: Caller, limit: Limit = 10, offset: Offset = 0,
                    include_excluded: Annotated[bool, Query(description="Also list who is excluded and why.")] = False,
                    ) -> dict[str, Any]:
        return handlers.suggestions(participant_id, principal, limit=limit, offset=offset,
                                    include_excluded=include_excluded)

    @api.post("/participants/{participant_id}/intake", summary="Record the intake interview (notes stay private)")
    def intake(participant_id: PathId, body: RecordIntake, principal: Caller, request: Request) -> dict[str, Any]:
        return participant_answer(handlers.record_intake(participant_id, body, principal, correlation_of(request)))

    @api.post("/participants/{participant_id}/consent", summary="Record consent as it now stands (what, when, by whom)")
    def consent(participant_id: PathId, body: RecordConsent, principal: Caller, request: Request) -> dict[str, Any]:
        return participant_answer(handlers.record_consent(participant_id, body, principal, correlation_of(request)))

    @api.put("/participants/{participant_id}/preferences",
             summary="Replace languages, wishes, interests, availability and municipality")
    def preferences(participant_id: PathId, body: ChangePreferences, principal: Caller, request: Request) -> dict[str, Any]:
        return participant_answer(handlers.change_preferences(participant_id, body, principal, correlation_of(request)))

    @api.post("/participants/{participant_id}/withdrawal", summary="Take a participant off the waiting list, with a reason")
    def withdraw(participant_id: PathId, body: Withdraw, principal: Caller, request: Request) -> dict[str, Any]:
        return participant_answer(handlers.withdraw(participant_id, body, principal, correlation_of(request)))

    @api.post("/participants/{participant_id}/waiting-list", summary="Put a participant back on the waiting list")
    def back_on_list(participant_id: PathId, body: ReturnToWaitingList, principal: Caller, request: Request) -> dict[str, Any]:
        return participant_answer(handlers.return_to_waiting_list(participant_id, body, principal, correlation_of(request)))

    @api.post("/participants/{participant_id}/erasure",
              summary="Erase a participant's personal data (crypto-shredding, also their duo agreements)")
    def erase(participant_id: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        return participant_answer(handlers.erase(participant_id, principal, correlation_of(request)))

    # ------------------------------------------------------------------ pool, weights, assignment
    @api.get("/projects/{project_id}/candidates",
             summary="The candidate pool learned from recruitment, longest waiting first, with capacity left")
    def pool(project_id: PathId, principal: Caller, limit: Limit = 100, offset: Offset = 0,
             candidate_status: Annotated[str | None, Query(alias="status", pattern="^(enquired|available|paused|stopped|all)$",
                                                           description="Default `available`; `all` for everyone.")] = "available",
             target_group: TargetGroup | None = None,
             language: Annotated[LanguageCode | None, Query()] = None,
             has_room: bool | None = None) -> dict[str, Any]:
        return handlers.candidates(project_id, principal, status=None if candidate_status in (None, "all") else candidate_status,
                                   target_group=target_group, language=language, has_room=has_room,
                                   limit=limit, offset=offset)

    @api.get("/projects/{project_id}/weights", summary="The project's matching weights (or the defaults)")
    def get_weights(project_id: PathId, principal: Caller) -> dict[str, Any]:
        return handlers.weights(project_id, principal)

    @api.put("/projects/{project_id}/weights", summary="Set the project's matching weights (recorded as an event)")
    def put_weights(project_id: PathId, body: SetWeights, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.set_weights(project_id, body, principal, correlation_of(request))

    @api.get("/projects/{project_id}/assignment",
             summary="Best overall assignment of the waiting list (linear_sum_assignment, capacities kept)")
    def assignment(project_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        return handlers.assignment(project_id, principal, limit=limit, offset=offset)

    # ------------------------------------------------------------------ duos
    @api.post("/projects/{project_id}/proposals", status_code=status.HTTP_201_CREATED,
              summary="Propose a volunteer to a participant (voorstel); both must accept",
              description=DUO_RULES)
    def propose(project_id: PathId, body: ProposeDuo, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.propose(project_id, body, principal, correlation_of(request)))

    @api.post("/duos/{duo_id}/acceptance", summary="The volunteer or the participant accepts the proposal")
    def accept(duo_id: PathId, body: Answer, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.accept(duo_id, body, principal, correlation_of(request)))

    @api.post("/duos/{duo_id}/decline", summary="The volunteer or the participant declines, with a reason")
    def decline(duo_id: PathId, body: Decline, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.decline(duo_id, body, principal, correlation_of(request)))

    @api.post("/duos/{duo_id}/start", summary="Kick-off in the triangle once both accepted (agreements stay private)",
              description=DUO_RULES)
    def kick_off(duo_id: PathId, body: KickOff, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.kick_off(duo_id, body, principal, correlation_of(request)))

    @api.post("/projects/{project_id}/duos", status_code=status.HTTP_201_CREATED,
              summary="Register a duo already agreed outside the system (no proposal recorded)",
              description=DUO_RULES)
    def start(project_id: PathId, body: StartDuo, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.start_duo(project_id, body, principal, correlation_of(request)))

    @api.post("/duos/{duo_id}/pause", summary="Pause a running duo")
    def pause(duo_id: PathId, body: PauseDuo, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.pause(duo_id, body, principal, correlation_of(request)))

    @api.post("/duos/{duo_id}/resume", summary="Resume a paused duo")
    def resume(duo_id: PathId, body: ResumeDuo, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.resume(duo_id, body, principal, correlation_of(request)))

    @api.post("/duos/{duo_id}/end", summary="End a duo with a reason; a mismatch puts the participant back on the list")
    def end(duo_id: PathId, body: EndDuo, principal: Caller, request: Request) -> dict[str, Any]:
        return duo_answer(handlers.end_duo(duo_id, body, principal, correlation_of(request)))

    @api.get("/duos/{duo_id}", summary="A duo, with its private agreements for the project's staff")
    def get_duo(duo_id: PathId, principal: Caller) -> dict[str, Any]:
        return handlers.duo_view(duo_id, principal)

    @api.get("/projects/{project_id}/duos", summary="Duos of a project, filterable, paginated")
    def list_duos(project_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                  duo_status: Annotated[list[DuoStatus] | None, Query(alias="status")] = None,
                  volunteer_id: QueryId = None,
                  participant_id: QueryId = None) -> dict[str, Any]:
        return handlers.list_duos(project_id, principal, statuses=[s.value for s in duo_status or []],
                                  volunteer_id=volunteer_id, participant_id=participant_id, limit=limit, offset=offset)

    return api
