"""HTTP API of the recruitment service, for professionals of a project and admins."""


from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from shared.auth import Principal
from shared.service import correlation_of
from services.recruitment.handlers import MakeAvailable, ReceiveEnquiry, RecruitmentHandlers, RegisterProject, StopVolunteer


def router(handlers: RecruitmentHandlers, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["recruitment"])
    Caller = Annotated[Principal, Depends(principal_of)]

    @api.post("/projects", status_code=status.HTTP_201_CREATED, summary="Register a project (admin)")
    def register_project(body: RegisterProject, principal: Caller, request: Request) -> dict[str, Any]:
        project = handlers.register_project(body, principal, correlation_of(request))
        return {"project_id": project.id, "version": project.version}

    @api.get("/projects/{project_id}", summary="A project")
    def get_project(project_id: str, principal: Caller) -> dict[str, Any]:
        project = handlers.project(project_id)
        return {"project_id": project.id, "region": project.region, "target_groups": project.target_groups}

    @api.post("/projects/{project_id}/volunteers", status_code=status.HTTP_201_CREATED,
              summary="Record a volunteer's enquiry (aanmelding)")
    def receive_enquiry(project_id: str, body: ReceiveEnquiry, principal: Caller, request: Request) -> dict[str, Any]:
        volunteer = handlers.receive_enquiry(project_id, body, principal, correlation_of(request))
        return {"volunteer_id": volunteer.id, "status": volunteer.status, "version": volunteer.version}

    @api.get("/volunteers/{volunteer_id}", summary="A volunteer, with personal data for their project's staff")
    def get_volunteer(volunteer_id: str, principal: Caller) -> dict[str, Any]:
        return handlers.view(volunteer_id, principal)

    @api.post("/volunteers/{volunteer_id}/availability", summary="Make a volunteer available for matching")
    def make_available(volunteer_id: str, body: MakeAvailable, principal: Caller, request: Request) -> dict[str, Any]:
        volunteer = handlers.make_available(volunteer_id, body, principal, correlation_of(request))
        return {"volunteer_id": volunteer.id, "status": volunteer.status, "version": volunteer.version}

    @api.post("/volunteers/{volunteer_id}/stop", summary="A volunteer stops")
    def stop(volunteer_id: str, body: StopVolunteer, principal: Caller, request: Request) -> dict[str, Any]:
        volunteer = handlers.stop(volunteer_id, body, principal, correlation_of(request))
        return {"volunteer_id": volunteer.id, "status": volunteer.status, "version": volunteer.version}

    @api.post("/volunteers/{volunteer_id}/erasure", summary="Erase a volunteer's personal data (crypto-shredding)")
    def erase(volunteer_id: str, principal: Caller, request: Request) -> dict[str, Any]:
        volunteer = handlers.erase(volunteer_id, principal, correlation_of(request))
        return {"volunteer_id": volunteer.id, "personal_data_erased": True, "version": volunteer.version}

    return api
