"""HTTP API of the follow-up service: for professionals of a project, and — for contacts
only — for buddies logging their own duo's contacts."""


from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, status

from shared.auth import Principal
from shared.contracts.followup import (
    Activity,
    BoundarySeverity,
    BoundarySignalType,
    CoachingKind,
    ContactMode,
    PolicyTheme,
)
from shared.parameters import PathId, QueryDay, QueryId
from shared.service import correlation_of
from services.followup.handlers import (
    AttemptCall,
    CloseGoal,
    CompleteCall,
    ConfirmSummary,
    CorrectContact,
    FollowUpBoundarySignal,
    FollowupHandlers,
    LogCoaching,
    LogContact,
    RaiseBoundarySignal,
    RecordEvaluation,
    RecordPolicySignal,
    RecordProgress,
    ResolveBoundarySignal,
    RetractContact,
    SetCadence,
    SetGoal,
)
from services.followup.queries import FollowupQueries
from services.followup.vocabularies import vocabularies

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]
# An id as recorded in events: anything else is refused as input, not found to be invalid later
ProjectId = PathId
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def router(handlers: FollowupHandlers, queries: FollowupQueries, principal_of: Any) -> APIRouter:
    api = APIRouter()
    Caller = Annotated[Principal, Depends(principal_of)]

    # ------------------------------------------------------------------ vocabularies and roster
    @api.get("/vocabularies", tags=["vocabularies"], summary="Every vocabulary with Dutch and English labels")
    def vocabulary_labels(principal: Caller) -> dict[str, Any]:
        return vocabularies()

    @api.get("/projects/{project_id}/duos", tags=["roster"], summary="The project's duos as learned from matching")
    def duos(project_id: ProjectId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
             status_: Annotated[Literal["active", "paused", "ended"] | None, Query(alias="status")] = None,
             ) -> dict[str, Any]:
        return queries.duos(project_id, principal, status_filter=status_, limit=limit, offset=offset)

    @api.get("/duos/{duo_id}", tags=["roster"], summary="One duo: status, check-in, counts (buddies: their own)")
    def duo(duo_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.duo(duo_id, principal)

    # ------------------------------------------------------------------ contacts
    @api.post("/duos/{duo_id}/contacts", status_code=status.HTTP_201_CREATED, tags=["contacts"],
              summary="Log a contact of a duo (buddies: of their own duo)")
    def log_contact(duo_id: PathId, body: LogContact, principal: Caller, request: Request) -> dict[str, Any]:
        return {"contact_id": handlers.log_contact(duo_id, body, principal, correlation_of(request)),
                "status": "logged"}

    @api.post("/duos/{duo_id}/contact-drafts", status_code=status.HTTP_201_CREATED, tags=["contacts"],
              summary="Keep a contact as a draft: not counted until submitted")
    def draft_contact(duo_id: PathId, body: LogContact, principal: Caller, request: Request) -> dict[str, Any]:
        return {"contact_id": handlers.log_contact(duo_id, body, principal, correlation_of(request), draft=True),
                "status": "draft"}

    @api.post("/duos/{duo_id}/contacts/{contact_id}/submission", tags=["contacts"],
              summary="Submit a draft (optionally with final values): from now on it counts")
    def submit_draft(duo_id: PathId, contact_id: PathId, principal: Caller, request: Request,
                     body: Annotated[LogContact | None, Body()] = None) -> dict[str, Any]:
        return handlers.submit_draft(duo_id, contact_id, body, principal, correlation_of(request))

    @api.post("/duos/{duo_id}/contacts/{contact_id}/discard", tags=["contacts"], summary="Drop a draft")
    def discard_draft(duo_id: PathId, contact_id: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.discard_draft(duo_id, contact_id, principal, correlation_of(request))

    @api.post("/duos/{duo_id}/contacts/{contact_id}/correction", tags=["contacts"],
              summary="Correct a logged contact (a new event; the original stays in the history)")
    def correct_contact(duo_id: PathId, contact_id: PathId, body: CorrectContact, principal: Caller,
                        request: Request) -> dict[str, Any]:
        return handlers.correct_contact(duo_id, contact_id, body, principal, correlation_of(request))

    @api.post("/duos/{duo_id}/contacts/{contact_id}/retraction", tags=["contacts"],
              summary="Retract a logged contact: it no longer counts")
    def retract_contact(duo_id: PathId, contact_id: PathId, body: RetractContact, principal: Caller,
                        request: Request) -> dict[str, Any]:
        return handlers.retract_contact(duo_id, contact_id, body, principal, correlation_of(request))

    @api.get("/duos/{duo_id}/contacts", tags=["contacts"], summary="Contacts of a duo, newest first")
    def list_contacts(
        duo_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
        status_: Annotated[Literal["logged", "draft", "retracted", "discarded"] | None, Query(alias="status")] = None,
        from_date: QueryDay = None, to_date: QueryDay = None, mode: ContactMode | None = None,
        activity: Activity | None = None,
    ) -> dict[str, Any]:
        return queries.contacts(duo_id, principal, status_filter=status_, from_date=from_date, to_date=to_date,
                                mode=mode, activity=activity, limit=limit, offset=offset)

    @api.get("/duos/{duo_id}/contacts/{contact_id}", tags=["contacts"],
             summary="One contact; its private note for professionals of the project")
    def get_contact(duo_id: PathId, contact_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.contact(duo_id, contact_id, principal)

    @api.get("/duos/{duo_id}/figures", tags=["contacts"], summary="Counted contacts of a duo per month")
    def duo_figures(duo_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.duo_figures(duo_id, principal)

    @api.get("/projects/{project_id}/figures", tags=["contacts"], summary="Counted contacts per duo per month")
    def project_figures(project_id: ProjectId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                        month_from: Month = None, month_to: Month = None, duo_id: QueryId = None) -> dict[str, Any]:
        return queries.project_figures(project_id, principal, month_from=month_from, month_to=month_to, duo_id=duo_id,
                                       limit=limit, offset=offset)

    # ------------------------------------------------------------------ check-in cadence
    @api.get("/projects/{project_id}/cadence", tags=["check-ins"], summary="The project's check-in rule")
    def get_cadence(project_id: ProjectId, principal: Caller) -> dict[str, Any]:
        return queries.cadence(project_id, principal)

    @api.put("/projects/{project_id}/cadence", tags=["check-ins"], summary="Set the project's check-in rule")
    def set_cadence(project_id: ProjectId, body: SetCadence, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.set_cadence(project_id, body, principal, correlation_of(request))

    @api.get("/projects/{project_id}/check-ins", tags=["check-ins"],
             summary="Running duos with their next check-in; overdue first")
    def check_ins(project_id: ProjectId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                  overdue: bool = False) -> dict[str, Any]:
        return queries.check_ins(project_id, principal, overdue_only=overdue, limit=limit, offset=offset)

    # ------------------------------------------------------------------ today
    @api.get("/projects/{project_id}/today", tags=["check-ins"],
             summary="Today: what needs the professional, most urgent first",
             description="Buddies in running duos with a child, youth or family whose criminal-record extract "
             "(model 2) or insurance is missing, expired or expires within `BUDDY_FOLLOWUP_SCREENING_NOTICE_DAYS`; "
             "open boundary signals of high or critical severity; overdue check-ins; overdue follow-up calls. "
             "'Today' and 'overdue' are Europe/Brussels days.")
    def today(project_id: ProjectId, principal: Caller) -> dict[str, Any]:
        return queries.today_list(project_id, principal)

    # ------------------------------------------------------------------ coaching
    @api.post("/projects/{project_id}/coaching-sessions", status_code=status.HTTP_201_CREATED, tags=["coaching"],
              summary="Log coaching of volunteers: individual, group or intervision")
    def log_coaching(project_id: ProjectId, body: LogCoaching, principal: Caller, request: Request) -> dict[str, Any]:
        return {"session_id": handlers.log_coaching(project_id, body, principal, correlation_of(request))}

    @api.get("/projects/{project_id}/coaching-sessions", tags=["coaching"], summary="Coaching sessions, newest first")
    def coaching(project_id: ProjectId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                 kind: CoachingKind | None = None, volunteer_id: QueryId = None, from_date: QueryDay = None,
                 to_date: QueryDay = None) -> dict[str, Any]:
        return queries.coaching_sessions(project_id, principal, kind=kind, volunteer_id=volunteer_id,
                                         from_date=from_date, to_date=to_date, limit=limit, offset=offset)

    # ------------------------------------------------------------------ boundary signals
    @api.post("/duos/{duo_id}/boundary-signals", status_code=status.HTTP_201_CREATED, tags=["boundary signals"],
              summary="Raise a boundary signal (grenzen)")
    def raise_signal(duo_id: PathId, body: RaiseBoundarySignal, principal: Caller, request: Request) -> dict[str, Any]:
        return {"signal_id": handlers.raise_boundary_signal(duo_id, body, principal, correlation_of(request)),
                "status": "open"}

    @api.get("/projects/{project_id}/boundary-signals", tags=["boundary signals"],
             summary="Boundary signals, most severe and oldest first (status=open for the work list)")
    def list_signals(project_id: ProjectId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                     status_: Annotated[Literal["open", "resolved"] | None, Query(alias="status")] = None,
                     signal_type: BoundarySignalType | None = None, severity: BoundarySeverity | None = None,
                     duo_id: QueryId = None) -> dict[str, Any]:
        return queries.boundary_signals(project_id, principal, status_filter=status_, signal_type=signal_type,
                                        severity=severity, duo_id=duo_id, limit=limit, offset=offset)

    @api.get("/boundary-signals/{signal_id}", tags=["boundary signals"], summary="One signal with its private notes")
    def get_signal(signal_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.boundary_signal(signal_id, principal)

    @api.post("/boundary-signals/{signal_id}/follow-ups", tags=["boundary signals"], summary="Record a follow-up")
    def follow_up_signal(signal_id: PathId, body: FollowUpBoundarySignal, principal: Caller,
                         request: Request) -> dict[str, Any]:
        return handlers.follow_up_boundary_signal(signal_id, body, principal, correlation_of(request))

    @api.post("/boundary-signals/{signal_id}/resolution", tags=["boundary signals"], summary="Resolve the signal")
    def resolve_signal(signal_id: PathId, body: ResolveBoundarySignal, principal: Caller,
                       request: Request) -> dict[str, Any]:
        return handlers.resolve_boundary_signal(signal_id, body, principal, correlation_of(request))

    # ------------------------------------------------------------------ goals and evaluations
    @api.post("/duos/{duo_id}/goals", status_code=status.HTTP_201_CREATED, tags=["goals and evaluations"],
              summary="Set a person-centred goal")
    def set_goal(duo_id: PathId, body: SetGoal, principal: Caller, request: Request) -> dict[str, Any]:
        return {"goal_id": handlers.set_goal(duo_id, body, principal, correlation_of(request)), "status": "open"}

    @api.get("/duos/{duo_id}/goals", tags=["goals and evaluations"], summary="Goals of a duo")
    def list_goals(duo_id: PathId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                   status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
                   ) -> dict[str, Any]:
        return queries.goals(duo_id, principal, status_filter=status_, limit=limit, offset=offset)

    @api.get("/goals/{goal_id}", tags=["goals and evaluations"], summary="One goal with its private wording")
    def get_goal(goal_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.goal(goal_id, principal)

    @api.post("/goals/{goal_id}/progress", tags=["goals and evaluations"], summary="Record progress (0–10)")
    def goal_progress(goal_id: PathId, body: RecordProgress, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.record_goal_progress(goal_id, body, principal, correlation_of(request))

    @api.post("/goals/{goal_id}/closure", tags=["goals and evaluations"], summary="Close a goal with its outcome")
    def close_goal(goal_id: PathId, body: CloseGoal, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.close_goal(goal_id, body, principal, correlation_of(request))

    @api.post("/duos/{duo_id}/evaluations", status_code=status.HTTP_201_CREATED, tags=["goals and evaluations"],
              summary="Record the start, mid-term or final evaluation")
    def record_evaluation(duo_id: PathId, body: RecordEvaluation, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.record_evaluation(duo_id, body, principal, correlation_of(request))

    @api.get("/duos/{duo_id}/evaluations", tags=["goals and evaluations"], summary="Evaluations of a duo")
    def list_evaluations(duo_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.evaluations(duo_id, principal)

    # ------------------------------------------------------------------ follow-up calls
    @api.get("/projects/{project_id}/follow-up-calls", tags=["follow-up calls"],
             summary="Follow-up calls after duos ended, by due date")
    def list_calls(project_id: ProjectId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                   status_: Annotated[Literal["scheduled", "completed", "cancelled"] | None, Query(alias="status")] = None,
                   overdue: bool = False, due_before: QueryDay = None,
                   duo_id: QueryId = None) -> dict[str, Any]:
        return queries.calls(project_id, principal, status_filter=status_, overdue=overdue, due_before=due_before,
                             duo_id=duo_id, limit=limit, offset=offset)

    @api.get("/projects/{project_id}/follow-up-calls/overdue", tags=["follow-up calls"],
             summary="Calls whose due date has passed and that are not completed")
    def overdue_calls(project_id: ProjectId, principal: Caller, limit: Limit = 50,
                      offset: Offset = 0) -> dict[str, Any]:
        return queries.calls(project_id, principal, status_filter=None, overdue=True, due_before=None, duo_id=None,
                             limit=limit, offset=offset)

    @api.get("/follow-up-calls/{call_id}", tags=["follow-up calls"], summary="One follow-up call")
    def get_call(call_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.call(call_id, principal)

    @api.post("/follow-up-calls/{call_id}/attempts", tags=["follow-up calls"],
              summary="Record an unsuccessful try (the N-th closes the call as not reachable)")
    def attempt_call(call_id: PathId, body: AttemptCall, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.attempt_call(call_id, body, principal, correlation_of(request))

    @api.post("/follow-up-calls/{call_id}/completion", tags=["follow-up calls"],
              summary="Record the outcome: reached (with answers), declined or not reachable")
    def complete_call(call_id: PathId, body: CompleteCall, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.complete_call(call_id, body, principal, correlation_of(request))

    # ------------------------------------------------------------------ policy signals
    @api.post("/projects/{project_id}/policy-signals", status_code=status.HTTP_201_CREATED, tags=["policy signals"],
              summary="Record a policy signal (the description stays encrypted)")
    def record_policy_signal(project_id: ProjectId, body: RecordPolicySignal, principal: Caller,
                             request: Request) -> dict[str, Any]:
        return {"signal_id": handlers.record_policy_signal(project_id, body, principal, correlation_of(request)),
                "status": "recorded"}

    @api.get("/projects/{project_id}/policy-signals", tags=["policy signals"], summary="Policy signals, newest first")
    def list_policy_signals(project_id: ProjectId, principal: Caller, limit: Limit = 50, offset: Offset = 0,
                            theme: PolicyTheme | None = None,
                            status_: Annotated[Literal["recorded", "confirmed", "shredded"] | None, Query(alias="status")] = None,
                            ) -> dict[str, Any]:
        return queries.policy_signals(project_id, principal, theme=theme, status_filter=status_, limit=limit,
                                      offset=offset)

    @api.get("/policy-signals/{signal_id}", tags=["policy signals"], summary="One policy signal with its description")
    def get_policy_signal(signal_id: PathId, principal: Caller) -> dict[str, Any]:
        return queries.policy_signal(signal_id, principal)

    @api.post("/policy-signals/{signal_id}/summary", tags=["policy signals"],
              summary="Confirm the anonymised summary (≤ 280 characters, no personal data) for reports")
    def confirm_summary(signal_id: PathId, body: ConfirmSummary, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.confirm_policy_summary(signal_id, body, principal, correlation_of(request))

    @api.post("/policy-signals/{signal_id}/shredding", tags=["policy signals"],
              summary="Admins: shred the signal's free text (description and confirmed summary), e.g. when it "
                      "names someone; recorded as PolicySignalShredded, reports quote it no more")
    def shred_policy_signal(signal_id: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        return handlers.shred_policy_signal(signal_id, principal, correlation_of(request))

    return api
