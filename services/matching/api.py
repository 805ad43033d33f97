"""HTTP API of the matching service, for professionals of a project."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from shared.auth import Principal
from shared.service import correlation_of
from services.matching.handlers import EndDuo, MatchingHandlers, ReferParticipant, StartDuo


def router(handlers: MatchingHandlers, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["matching"])
    Caller = Annotated[Principal, Depends(principal_of)]

    @api.post("/projects/{project_id}/participants", status_code=status.HTTP_201_CREATED,
              summary="Record a participant's referral (aanmelding deelnemer)")
    def refer(project_id: str, body: ReferParticipant, principal: Caller, request: Request) -> dict[str, Any]:
        participant = handlers.refer(project_id, body, principal, correlation_of(request))
        return {"participant_id": participant.id, "status": "waiting", "version": participant.version}

    @api.get("/projects/{project_id}/candidates", summary="Volunteers available for matching, longest waiting first")
    def pool(project_id: str, principal: Caller) -> dict[str, Any]:
        return {"candidates": handlers.candidates(project_id, principal)}

    @api.post("/projects/{project_id}/duos", status_code=status.HTTP_201_CREATED, summary="Start a duo")
    def start(project_id: str, body: StartDuo, principal: Caller, request: Request) -> dict[str, Any]:
        duo = handlers.start_duo(project_id, body, principal, correlation_of(request))
        return {"duo_id": duo.id, "status": duo.status, "version": duo.version}

    @api.post("/duos/{duo_id}/end", summary="End a duo with a reason")
    def end(duo_id: str, body: EndDuo, principal: Caller, request: Request) -> dict[str, Any]:
        duo = handlers.end_duo(duo_id, body, principal, correlation_of(request))
        return {"duo_id": duo.id, "status": duo.status, "version": duo.version}

    return api
