"""HTTP API of the follow-up service, for professionals and for buddies logging contacts."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from shared.auth import Principal
from shared.service import correlation_of
from services.followup.handlers import FollowupHandlers, LogContact


def router(handlers: FollowupHandlers, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["follow-up"])
    Caller = Annotated[Principal, Depends(principal_of)]

    @api.post("/duos/{duo_id}/contacts", status_code=status.HTTP_201_CREATED, summary="Log a contact of a duo")
    def log_contact(duo_id: str, body: LogContact, principal: Caller, request: Request) -> dict[str, Any]:
        return {"contact_id": handlers.log_contact(duo_id, body, principal, correlation_of(request))}

    return api
