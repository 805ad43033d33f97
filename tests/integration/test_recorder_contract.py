"""The `eventsourcing` library's recorder contract tests, run against our event store.

Every recorder case the library ships (``eventsourcing.tests.persistence``) runs here on
SQLite and on PostgreSQL through the adapter in ``tests/support/peer_recorder.py``, each
test on an empty database of its own (PostgreSQL: a new database, dropped at the end of
the session; skipped, with the reason, when no PostgreSQL server is available). The cases
that do not apply are listed below and skipped by name with the reason given in the
adapter's docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eventsourcing.tests import persistence as contract  # the module, not its classes: pytest would collect them

from shared.eventstore import EventStore, make_engine, migrate
from tests.support.peer_recorder import StoreAggregateRecorder, StoreApplicationRecorder

NO_TRACKING = ("our store records no tracking objects: a consuming service's bus consumer keeps its checkpoint "
               "per upstream in its own projection transaction (shared.bus.consumer), and the store's append "
               "takes no tracking argument (see tests/support/peer_recorder.py)")


class _OurStore:
    """Creates stores on the database of the running test; disposes of them afterwards."""

    backend = "sqlite"
    url: str

    @pytest.fixture(autouse=True)
    def _database(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
        if self.backend == "sqlite":
            self.url = f"sqlite:///{(tmp_path / 'contract.db').as_posix()}"
        else:
            make: Callable[[], str] = request.getfixturevalue("make_postgres_db")
            self.url = make()
        self.engines = []
        yield
        for engine in self.engines:
            engine.dispose()

    def _store(self) -> EventStore:
        engine = make_engine(self.url)
        migrate(engine)
        self.engines.append(engine)
        return EventStore(engine, "contract")


class _Aggregate(_OurStore):
    def create_recorder(self) -> StoreAggregateRecorder:
        return StoreAggregateRecorder(self._store())


class _Application(_OurStore):
    def create_recorder(self) -> StoreApplicationRecorder:
        return StoreApplicationRecorder(self._store())


class _Postgres:
    backend = "postgresql"
    pytestmark = pytest.mark.postgres


class TestSQLiteAggregateRecorder(_Aggregate, contract.AggregateRecorderTestCase):
    pass


class TestSQLiteApplicationRecorder(_Application, contract.ApplicationRecorderTestCase):
    pass


class TestSQLiteNonInterleavingNotificationIDs(_Application, contract.NonInterleavingNotificationIDsBaseCase):
    pass


@pytest.mark.postgres
class TestPostgresAggregateRecorder(_Postgres, _Aggregate, contract.AggregateRecorderTestCase):
    pass


@pytest.mark.postgres
class TestPostgresApplicationRecorder(_Postgres, _Application, contract.ApplicationRecorderTestCase):
    pass


@pytest.mark.postgres
class TestPostgresNonInterleavingNotificationIDs(_Postgres, _Application,
                                                 contract.NonInterleavingNotificationIDsBaseCase):
    pass


@pytest.mark.skip(reason=NO_TRACKING)
class TestTrackingRecorder(contract.TrackingRecorderTestCase):
    def create_recorder(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError(NO_TRACKING)


@pytest.mark.skip(reason=NO_TRACKING + "; a process recorder is an application recorder with tracking")
class TestProcessRecorder(contract.ProcessRecorderTestCase):
    def create_recorder(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError(NO_TRACKING)


def test_every_recorder_contract_case_of_the_library_is_run_or_skipped_by_name() -> None:
    """A new contract case in a later version of the library is not left out unnoticed."""
    covered = {contract.AggregateRecorderTestCase, contract.ApplicationRecorderTestCase,
               contract.NonInterleavingNotificationIDsBaseCase, contract.TrackingRecorderTestCase,
               contract.ProcessRecorderTestCase}
    not_recorder_contracts = {contract.RecorderTestCase,  # the base of the others, no tests of its own
                              contract.InfrastructureFactoryTestCase, contract.TranscoderTestCase}
    shipped = {obj for obj in vars(contract).values()
               if isinstance(obj, type) and obj.__module__ == contract.__name__
               and any(name.startswith("test") for name in dir(obj))}
    assert shipped - not_recorder_contracts == covered
