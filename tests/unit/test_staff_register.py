"""The staff register without I/O: the ``StaffMember`` aggregate and the access fold that every service runs.

A state machine drives one staff member with every command in any order. After every
step the aggregate's state is what its events say, removal ends everything, and folding
the same events with ``shared.access.apply_staff_event`` (as a subscriber does) into a
real ``staff_access`` table gives the same roles, projects, regions and effective role.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from shared.access import StaffAccess, apply_staff_event, effective_role
from shared.contracts.staff import GrantedRole
from shared.domain import DomainError, NotFound
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import make_engine, migrate
from shared.eventstore.tables import staff_access
from services.recruitment.staff import StaffMember, StaffStatus

PROJECTS = ["p-1", "p-2", "p-3"]
REGIONS = ["antwerpen-kempen", "limburg"]
AT = datetime(2026, 1, 5, tzinfo=UTC)


def test_effective_role_order():
    assert effective_role({"admin", "government"}, {"p"}, {"r"}) is Role.admin
    assert effective_role({"auditor", "government"}, set(), set()) is Role.auditor
    assert effective_role({"government"}, {"p"}, {"r"}) is Role.government
    assert effective_role(set(), {"p"}, {"r"}) is Role.coordinator
    assert effective_role(set(), {"p"}, set()) is Role.professional
    assert effective_role(set(), set(), set()) is None


def test_a_new_member_exists_only_after_the_invitation():
    member = StaffMember("s-1")
    with pytest.raises(NotFound) as missing:
        member.grant(GrantedRole.admin)
    assert missing.value.status_code == 404 and " / " in missing.value.message
    [invited] = member.invite(subject="sub-1")
    member.apply(invited)
    assert member.status is StaffStatus.active and member.subject == "sub-1" and member.role is None
    with pytest.raises(DomainError) as twice:
        member.invite(subject=None)
    assert twice.value.code == "already_exists"


def test_repeating_what_holds_decides_nothing_and_removal_ends_everything():
    member = StaffMember("s-2")
    for decide in (lambda: member.invite(subject=None), lambda: member.assign_project("p-1"),
                   lambda: member.grant(GrantedRole.government)):
        for e in decide():
            member.apply(e)
    assert member.assign_project("p-1") == [] and member.grant(GrantedRole.government) == []
    assert member.unassign_region("limburg") == [] and member.revoke(GrantedRole.admin) == []
    assert member.role is Role.government
    for e in member.remove():
        member.apply(e)
    assert member.role is None and not member.projects and not member.roles
    with pytest.raises(DomainError) as removed:
        member.assign_project("p-2")
    assert removed.value.code == "staff_removed" and removed.value.status_code == 409


def _envelope(member_id: str, version: int, position: int, event) -> Envelope:  # type: ignore[no-untyped-def]
    return Envelope(event_id=uuid.uuid4(), type=event.event_type, schema_version=event.schema_version,
                    service="recruitment", stream_type="staff", stream_id=member_id, version=version,
                    position=position, occurred_at=AT, recorded_at=AT, actor=Actor(id="boot", role=Role.admin),
                    correlation_id=uuid.uuid4(), payload=event.model_dump(mode="json"))


_ENGINES: list = []


def _engine():  # type: ignore[no-untyped-def]
    """One migrated database for every run of the machine (each run folds a staff member of its own)."""
    if not _ENGINES:
        import tempfile

        engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/access.db")
        migrate(engine, None)
        _ENGINES.append(engine)
    return _ENGINES[0]


class StaffMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.member = StaffMember(f"s-{uuid.uuid4().hex}")
        self.engine = _engine()
        self.position = 0
        self.events: list = []

    def _record(self, decided: list) -> None:  # type: ignore[type-arg]
        for e in decided:
            self.member.apply(e)
            self.position += 1
            self.events.append(e)
            with self.engine.begin() as conn:
                assert apply_staff_event(conn, _envelope(self.member.id, self.member.version, self.position, e))

    def _try(self, decide) -> None:  # type: ignore[no-untyped-def]
        before = (self.member.status, set(self.member.roles), set(self.member.projects), set(self.member.regions))
        try:
            decided = decide()
        except DomainError as refused:
            assert " / " in refused.message  # Dutch / English
            # refused only: a command before the invitation, after removal, or a second invitation
            assert self.member.status is not StaffStatus.active or refused.code == "already_exists"
            assert before == (self.member.status, self.member.roles, self.member.projects, self.member.regions)
            return
        self._record(decided)

    @rule(subject=st.none() | st.sampled_from(["sub-a", "sub-b"]))
    def invite(self, subject: str | None) -> None:
        self._try(lambda: self.member.invite(subject=subject))

    @rule(subject=st.sampled_from(["sub-a", "sub-b", "sub-c"]))
    def link(self, subject: str) -> None:
        self._try(lambda: self.member.link_subject(subject))

    @rule(role=st.sampled_from(list(GrantedRole)))
    def grant(self, role: GrantedRole) -> None:
        self._try(lambda: self.member.grant(role))

    @rule(role=st.sampled_from(list(GrantedRole)))
    def revoke(self, role: GrantedRole) -> None:
        self._try(lambda: self.member.revoke(role))

    @rule(project=st.sampled_from(PROJECTS))
    def assign_project(self, project: str) -> None:
        self._try(lambda: self.member.assign_project(project))

    @rule(project=st.sampled_from(PROJECTS))
    def unassign_project(self, project: str) -> None:
        self._try(lambda: self.member.unassign_project(project))

    @rule(region=st.sampled_from(REGIONS))
    def assign_region(self, region: str) -> None:
        self._try(lambda: self.member.assign_region(region))

    @rule(region=st.sampled_from(REGIONS))
    def unassign_region(self, region: str) -> None:
        self._try(lambda: self.member.unassign_region(region))

    @precondition(lambda self: self.member.exists)
    @rule()
    def remove(self) -> None:
        self._try(self.member.remove)

    @invariant()
    def replay_gives_the_same_member(self) -> None:
        again = StaffMember.replay(self.member.id, self.events)
        assert (again.status, again.subject, again.roles, again.projects, again.regions) == (
            self.member.status, self.member.subject, self.member.roles, self.member.projects, self.member.regions)

    @invariant()
    def every_service_folds_the_same_access(self) -> None:
        with self.engine.connect() as conn:
            row = conn.execute(select(staff_access).where(staff_access.c.staff_id == self.member.id)).first()
        if not self.member.exists:
            assert row is None
            return
        access = StaffAccess.of_row(row)
        assert access.removed == (self.member.status is StaffStatus.removed)
        assert (access.subject, access.roles, access.projects, access.regions) == (
            self.member.subject, self.member.roles, self.member.projects, self.member.regions)
        assert access.role == self.member.role


TestStaffMachine = StaffMachine.TestCase
TestStaffMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)


def test_a_reporting_rebuild_learns_the_register_as_the_live_consumer_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``buddy reporting rebuild`` projects stored rows, not envelopes: the staff register comes along."""
    import json

    from services.reporting.projections import Meta, on_event, on_row
    from tests.staff import demo_staff_envelopes

    envelopes = demo_staff_envelopes()
    tables = []
    for name, apply in (("live", lambda conn, env: on_event(conn, env)),
                        ("rebuilt", lambda conn, env: on_row(conn, env.type, env.schema_version,
                                                             json.dumps(env.payload),
                                                             Meta(str(env.event_id), "2024-01-01", "2024-01-01")))):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        migrate(engine, None)
        with engine.begin() as conn:
            for env in envelopes:
                apply(conn, env)
        with engine.connect() as conn:
            tables.append({r.staff_id: StaffAccess.of_row(r).as_dict() for r in conn.execute(select(staff_access))})
    assert tables[0] == tables[1]
    assert tables[0]["s-dev-coordinator"]["role"] == "coordinator"
    assert tables[0]["s-dev-government"]["role"] == "government"
