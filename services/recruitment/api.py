"""HTTP API of the recruitment service, for professionals of a project and admins.

Professionals act only in their own projects (403 elsewhere); admins register, change and
close projects and may step in anywhere. Every list is paginated (``limit``/``offset``)
and answers ``{"items", "total", "limit", "offset"}``.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from shared.auth import Principal
from shared.contracts.recruitment import LegalItem, RecruitmentChannel
from shared.parameters import FormLine, PathId
from shared.service import correlation_of
from services.recruitment.domain import LegalState, Project, Volunteer, VolunteerStatus
from services.recruitment.handlers import (
    ChangePreferences,
    ChangeProject,
    CloseProject,
    HoldIntake,
    KeepWarm,
    MakeAvailable,
    Pause,
    PersonalData,
    ReceiveEnquiry,
    RecordLegalItem,
    RecordTraining,
    RecruitmentHandlers,
    RegisterProject,
    Screen,
    StopVolunteer,
)
from services.recruitment.vocabularies import all_vocabularies

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]


def _project(project: Project) -> dict[str, Any]:
    return {"project_id": project.id, "status": project.status, "version": project.version}


def _volunteer(volunteer: Volunteer) -> dict[str, Any]:
    return {"volunteer_id": volunteer.id, "status": volunteer.status, "version": volunteer.version}


def router(handlers: RecruitmentHandlers, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["recruitment"])
    Caller = Annotated[Principal, Depends(principal_of)]

    # -- vocabularies -----------------------------------------------------------------------
    @api.get("/vocabularies", summary="Labels of every vocabulary, Dutch and English")
    def vocabularies(principal: Caller) -> dict[str, Any]:
        return all_vocabularies()

    # -- project register ---------------------------------------------------------------------
    @api.post("/projects", status_code=status.HTTP_201_CREATED, summary="Register a project (admin)")
    def register_project(body: RegisterProject, principal: Caller, request: Request) -> dict[str, Any]:
        return _project(handlers.register_project(body, principal, correlation_of(request)))

    @api.get("/projects", summary="Projects the caller may see, filterable by region and status")
    def list_projects(principal: Caller, limit: Limit = 50, offset: Offset = 0,
                      region: FormLine = None,
                      project_status: Annotated[str | None, Query(alias="status", pattern="^(open|closed)$")] = None,
                      ) -> dict[str, Any]:
        return handlers.projects(principal, region=region, status=project_status, limit=limit, offset=offset)

    @api.get("/projects/{project_id}", summary="A project")
    def get_project(project_id: PathId, principal: Caller) -> dict[str, Any]:
        return handlers.project(project_id, principal)

    @api.patch("/projects/{project_id}", summary="Change a project (admin); only the fields given change")
    def change_project(project_id: PathId, body: ChangeProject, principal: Caller, request: Request) -> dict[str, Any]:
        return _project(handlers.change_project(project_id, body, principal, correlation_of(request)))

    @api.post("/projects/{project_id}/close", summary="Close a project (admin): no new enquiries")
    def close_project(project_id: PathId, body: CloseProject, principal: Caller, request: Request) -> dict[str, Any]:
        return _project(handlers.close_project(project_id, body, principal, correlation_of(request)))

    # -- volunteers of a project ------------------------------------------------------------
    @api.post("/projects/{project_id}/volunteers", status_code=status.HTTP_201_CREATED,
              summary="Record a volunteer's enquiry (aanmelding)")
    def receive_enquiry(project_id: PathId, body: ReceiveEnquiry, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.receive_enquiry(project_id, body, principal, correlation_of(request)))

    @api.get("/projects/{project_id}/volunteers",
             summary="Volunteers of a project; filter by status, channel or name (blind index, whole name parts)")
    def list_volunteers(project_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                        volunteer_status: Annotated[list[VolunteerStatus] | None, Query(alias="status")] = None,
                        channel: RecruitmentChannel | None = None,
                        name: Annotated[str | None, Query(min_length=1, max_length=200)] = None) -> dict[str, Any]:
        return handlers.list_volunteers(project_id, principal, status=volunteer_status, channel=channel, name=name,
                                        limit=limit, offset=offset)

    @api.get("/projects/{project_id}/waiting-board",
             summary="Per stage how many and how long; who waits longest; keep-warm alerts")
    def waiting_board(project_id: PathId, principal: Caller,
                      per_stage: Annotated[int, Query(ge=1, le=500, description="People listed per stage.")] = 50,
                      top: Annotated[int, Query(ge=1, le=100, description="Longest waiting listed.")] = 5,
                      ) -> dict[str, Any]:
        return handlers.waiting_board(project_id, principal, per_stage=per_stage, top=top)

    @api.get("/projects/{project_id}/keep-warm-alerts",
             summary="Available volunteers waiting more than N days without a match or keep-warm contact")
    def keep_warm_alerts(project_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        return handlers.keep_warm_alerts(project_id, principal, limit=limit, offset=offset)

    @api.get("/projects/{project_id}/legal-items",
             summary="Legal and safety items missing, expired or expiring within the horizon (default 30 days)")
    def legal_items(project_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                    item: LegalItem | None = None, state: LegalState | None = None) -> dict[str, Any]:
        return handlers.legal_attention(project_id, principal, item=item, state=state, limit=limit, offset=offset)

    # -- one volunteer ----------------------------------------------------------------------
    @api.get("/volunteers/{volunteer_id}", summary="A volunteer, with personal data for their project's staff")
    def get_volunteer(volunteer_id: PathId, principal: Caller) -> dict[str, Any]:
        return handlers.view(volunteer_id, principal)

    @api.get("/volunteers/{volunteer_id}/history", summary="The volunteer's events, oldest first, with private notes")
    def history(volunteer_id: PathId, principal: Caller, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        return handlers.history(volunteer_id, principal, limit=limit, offset=offset)

    @api.post("/volunteers/{volunteer_id}/intake", summary="Record the intake interview")
    def intake(volunteer_id: PathId, body: HoldIntake, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.hold_intake(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/screening", summary="Record the screening: approved, or not with a reason")
    def screening(volunteer_id: PathId, body: Screen, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.screen(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/training", summary="Record a coaching or training session with its hours")
    def training(volunteer_id: PathId, body: RecordTraining, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.record_training(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/availability", summary="Make a volunteer available for matching")
    def make_available(volunteer_id: PathId, body: MakeAvailable, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.make_available(volunteer_id, body, principal, correlation_of(request)))

    @api.put("/volunteers/{volunteer_id}/preferences", summary="Change the matching preferences")
    def preferences(volunteer_id: PathId, body: ChangePreferences, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.change_preferences(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/pause", summary="Pause: no new duos for a while")
    def pause(volunteer_id: PathId, body: Pause, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.pause(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/resume", summary="Resume after a pause")
    def resume(volunteer_id: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.resume(volunteer_id, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/stop", summary="A volunteer stops, with a reason")
    def stop(volunteer_id: PathId, body: StopVolunteer, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.stop(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/legal-items",
              summary="Record a legal or safety item: information notice, insurance, criminal-record extract")
    def legal_item(volunteer_id: PathId, body: RecordLegalItem, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.record_legal_item(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/keep-warm", summary="Log a keep-warm contact")
    def keep_warm(volunteer_id: PathId, body: KeepWarm, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.keep_warm(volunteer_id, body, principal, correlation_of(request)))

    @api.put("/volunteers/{volunteer_id}/personal", summary="Replace the volunteer's personal data (kept in the vault)")
    def personal(volunteer_id: PathId, body: PersonalData, principal: Caller, request: Request) -> dict[str, Any]:
        return _volunteer(handlers.change_personal_data(volunteer_id, body, principal, correlation_of(request)))

    @api.post("/volunteers/{volunteer_id}/erasure", summary="Erase a volunteer's personal data (crypto-shredding)")
    def erase(volunteer_id: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        volunteer = handlers.erase(volunteer_id, principal, correlation_of(request))
        return {**_volunteer(volunteer), "personal_data_erased": True}

    return api
