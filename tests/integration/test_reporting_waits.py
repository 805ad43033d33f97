"""Waiting times are what happened: a duo recorded before its participant's referral (only
an older history can hold one; matching now refuses it) has an unknown wait, not a wait of
zero days that would pull the medians down."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from shared.contracts import matching as mt
from shared.contracts import recruitment as rc
from shared.contracts.common import TargetGroup
from shared.eventstore.db import reader
from services.reporting.read_models import duos
from tests.integration.test_reporting_indicators import rebuilt
from tests.integration.test_reporting_script import D, Script, mat, rec


def referral(pt: str, on: str) -> mt.ParticipantReferred:
    return mt.ParticipantReferred(
        participant_id=pt, project_id="pA", target_group=TargetGroup.individual_adult,
        referrer_type=mt.ReferrerType.self, life_domains=[mt.LifeDomain.isolation], municipality_nis="11002",
        consent_recorded=True, consent=mt.Consent(scopes=list(mt.REQUIRED_CONSENT)), referred_on=D(on))


def test_a_duo_before_its_referral_has_no_wait_and_the_others_keep_theirs(tmp_path: Path) -> None:
    s = Script()
    rec(s, rc.ProjectRegistered(project_id="pA", name="Project pA", organisation="vzw", municipality_nis="11002",
                                region="antwerpen-kempen", target_groups=list(TargetGroup)), "2025-09-01")
    mat(s, referral("pt-1", "2026-01-10"), "2026-01-10")
    mat(s, referral("pt-2", "2026-02-10"), "2026-02-10")
    mat(s, mt.DuoStarted(duo_id="d-1", project_id="pA", volunteer_id="v-1", participant_id="pt-1",
                         started_on=D("2026-02-09"), agreed_contacts_per_month=2), "2026-02-12")
    mat(s, mt.DuoStarted(duo_id="d-2", project_id="pA", volunteer_id="v-2", participant_id="pt-2",
                         started_on=D("2026-02-01"), agreed_contacts_per_month=2), "2026-02-12")  # before its referral
    stores, _ = s.write(tmp_path)
    engine = rebuilt(tmp_path, stores)
    with reader(engine).connect() as conn:
        waited = dict(conn.execute(select(duos.c.duo_id, duos.c.participant_waited_days)).all())
    assert waited == {"d-1": 30, "d-2": None}
