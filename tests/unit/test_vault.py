"""The vault: round trips, crypto-shredding, tamper detection, blind indexes, rotation."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, insert, select

from shared.eventstore.db import make_engine, migrate
from shared.eventstore.tables import vault_keys
from shared.vault import Vault, VaultError, normalise

MASTER = bytes(range(32))
BLIND = bytes(range(32, 64))

# A stand-in for the event table: rows that hold only ciphertext.
_meta = MetaData()
blobs = Table(
    "test_blobs",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("subject_id", String(100), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
)


def _engine(path: Path):
    engine = make_engine(f"sqlite:///{path}/v.db")
    migrate(engine)
    _meta.create_all(engine)
    return engine


@pytest.fixture
def engine(tmp_path):
    engine = _engine(tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def vault(engine):
    return Vault(engine, MASTER, BLIND)


def test_round_trip_and_key_created_in_callers_transaction(vault, engine):
    data = {"first_name": "Émile", "last_name": "Dupont", "phone": "+32 470 12 34 56"}
    with engine.begin() as conn:
        sealed = vault.seal(conn, "person-1", data)
        # Readable inside the same transaction when given the connection.
        assert vault.open("person-1", sealed, conn) == data
    assert sealed[0] == 1
    assert b"Dupont" not in sealed
    assert vault.open("person-1", sealed) == data
    assert not vault.is_erased("person-1")
    with engine.connect() as conn:
        assert conn.execute(select(vault_keys.c.subject_id)).scalars().all() == ["person-1"]


def test_key_rolls_back_with_the_transaction(vault, engine):
    conn = engine.connect()
    trans = conn.begin()
    vault.seal(conn, "person-1", {"x": "y"})
    trans.rollback()
    conn.close()
    assert vault.is_erased("person-1")


def test_one_key_per_subject_reused(vault, engine):
    with engine.begin() as conn:
        a = vault.seal(conn, "person-1", {"n": "1"})
    with engine.begin() as conn:
        b = vault.seal(conn, "person-1", {"n": "2"})
    with engine.connect() as conn:
        assert len(conn.execute(select(vault_keys)).all()) == 1
    assert vault.open("person-1", a) == {"n": "1"}
    assert vault.open("person-1", b) == {"n": "2"}


def test_concurrent_key_creation_uses_the_first_key(vault, engine, monkeypatch):
    """Simulates losing the insert race (as on PostgreSQL): the savepoint keeps the
    transaction usable and the other transaction's key is used."""
    with engine.begin() as conn:
        first = vault.seal(conn, "person-1", {"n": "1"})
    real_read = Vault._read_wrapped
    calls = []

    def blind_first_read(self, conn, subject_id):
        calls.append(subject_id)
        return None if len(calls) == 1 else real_read(self, conn, subject_id)

    monkeypatch.setattr(Vault, "_read_wrapped", blind_first_read)
    with engine.begin() as conn:
        second = vault.seal(conn, "person-1", {"n": "2"})
        conn.execute(insert(blobs).values(subject_id="person-1", sealed=second))
    monkeypatch.undo()
    assert len(calls) == 2
    fresh = Vault(engine, MASTER, BLIND)
    assert fresh.open("person-1", first) == {"n": "1"}
    assert fresh.open("person-1", second) == {"n": "2"}
    with engine.connect() as conn:
        assert len(conn.execute(select(blobs)).all()) == 1


def test_open_none_is_none(vault):
    assert vault.open("person-1", None) is None


def test_erase_shreds_data_but_leaves_rows(vault, engine):
    with engine.begin() as conn:
        sealed_a = vault.seal(conn, "person-a", {"name": "Anna"})
        sealed_b = vault.seal(conn, "person-b", {"name": "Bert"})
        conn.execute(
            insert(blobs),
            [{"subject_id": "person-a", "sealed": sealed_a}, {"subject_id": "person-b", "sealed": sealed_b}],
        )
    assert vault.open("person-a", sealed_a) == {"name": "Anna"}  # warms the cache

    with engine.begin() as conn:
        assert vault.erase(conn, "person-a") is True
    with engine.begin() as conn:
        assert vault.erase(conn, "person-a") is False

    with engine.connect() as conn:
        rows = {r.subject_id: bytes(r.sealed) for r in conn.execute(select(blobs))}
    assert rows == {"person-a": sealed_a, "person-b": sealed_b}
    assert vault.open("person-a", rows["person-a"]) is None
    assert vault.is_erased("person-a")
    assert vault.open("person-b", rows["person-b"]) == {"name": "Bert"}
    # A fresh instance (no cache) agrees.
    assert Vault(engine, MASTER, BLIND).open("person-a", sealed_a) is None


def test_erase_seen_by_other_instance_after_cache_expiry(engine):
    reader = Vault(engine, MASTER, BLIND, cache_ttl_s=0)
    writer = Vault(engine, MASTER, BLIND)
    with engine.begin() as conn:
        sealed = writer.seal(conn, "person-a", {"k": "v"})
    assert reader.open("person-a", sealed) == {"k": "v"}
    with engine.begin() as conn:
        writer.erase(conn, "person-a")
    assert reader.open("person-a", sealed) is None


@pytest.mark.parametrize("position", [0, 1, 5, 13, -1])
def test_tampered_ciphertext_raises(vault, engine, position):
    with engine.begin() as conn:
        sealed = bytearray(vault.seal(conn, "person-1", {"note": "x" * 20}))
    sealed[position] ^= 0x01
    with pytest.raises(VaultError):
        vault.open("person-1", bytes(sealed))


def test_truncated_ciphertext_raises(vault, engine):
    with engine.begin() as conn:
        sealed = vault.seal(conn, "person-1", {"a": "b"})
    with pytest.raises(VaultError):
        vault.open("person-1", sealed[:20])


def test_blob_cannot_move_to_another_person(vault, engine):
    with engine.begin() as conn:
        sealed_a = vault.seal(conn, "person-a", {"name": "Anna"})
        vault.seal(conn, "person-b", {"name": "Bert"})
    with pytest.raises(VaultError):
        vault.open("person-b", sealed_a)


def test_wrapped_key_cannot_move_to_another_person(vault, engine):
    with engine.begin() as conn:
        sealed_a = vault.seal(conn, "person-a", {"name": "Anna"})
        query = select(vault_keys.c.wrapped_key).where(vault_keys.c.subject_id == "person-a")
        wrapped = conn.execute(query).scalar_one()
        conn.execute(insert(vault_keys).values(subject_id="person-b", wrapped_key=wrapped, created_at="x"))
    with pytest.raises(VaultError):
        Vault(engine, MASTER, BLIND).open("person-b", sealed_a)


def test_wrong_master_key_is_a_clear_error(vault, engine):
    with engine.begin() as conn:
        sealed = vault.seal(conn, "person-1", {"a": "b"})
    with pytest.raises(VaultError, match="master key"):
        Vault(engine, os.urandom(32), BLIND).open("person-1", sealed)


def test_rejects_bad_keys_and_input(engine, vault):
    with pytest.raises(ValueError):
        Vault(engine, b"short", BLIND)
    with engine.begin() as conn:
        with pytest.raises(TypeError):
            vault.seal(conn, "person-1", ["not", "a", "dict"])  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            vault.seal(conn, "", {})


def test_blind_index_normalises(vault):
    assert normalise("  Émile  DUPONT") == "emile dupont"
    assert vault.blind_index("  Émile  DUPONT") == vault.blind_index("emile dupont")
    assert vault.blind_index("Ｅｍｉｌｅ\tDupont\n") == vault.blind_index("emile dupont")
    assert vault.blind_index("emile dupont") != vault.blind_index("emile dupond")
    index = vault.blind_index("emile dupont")
    assert len(index) == 64 and int(index, 16) >= 0
    assert "emile" not in index


def test_blind_index_depends_on_key(engine):
    a = Vault(engine, MASTER, BLIND)
    b = Vault(engine, MASTER, os.urandom(32))
    assert a.blind_index("Emile Dupont") != b.blind_index("Emile Dupont")


def test_name_tokens(vault):
    tokens = vault.name_tokens("  Émile  DUPONT-Claes ")
    assert tokens == [vault.blind_index("emile"), vault.blind_index("dupont"), vault.blind_index("claes")]
    assert vault.blind_index("Dupont") in tokens
    assert vault.name_tokens("Jan Jan") == [vault.blind_index("jan")]
    assert vault.name_tokens("   ") == []


def test_rewrap_rotates_master_key(vault, engine):
    new_master = os.urandom(32)
    with engine.begin() as conn:
        sealed = {s: vault.seal(conn, s, {"who": s}) for s in ("p1", "p2", "p3")}
    with engine.begin() as conn:
        assert vault.rewrap(conn, new_master) == 3

    rotated = Vault(engine, new_master, BLIND)
    for subject, blob in sealed.items():
        assert rotated.open(subject, blob) == {"who": subject}
    old = Vault(engine, MASTER, BLIND)
    for subject, blob in sealed.items():
        with pytest.raises(VaultError):
            old.open(subject, blob)
    # New seals under the new key reuse the existing data keys.
    with engine.begin() as conn:
        again = rotated.seal(conn, "p1", {"who": "p1", "v": "2"})
    assert rotated.open("p1", again) == {"who": "p1", "v": "2"}


def test_rewrap_rolls_back(vault, engine):
    with engine.begin() as conn:
        sealed = vault.seal(conn, "p1", {"a": "b"})
    conn = engine.connect()
    trans = conn.begin()
    vault.rewrap(conn, os.urandom(32))
    trans.rollback()
    conn.close()
    assert Vault(engine, MASTER, BLIND).open("p1", sealed) == {"a": "b"}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def shared_vault():
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(Path(tmp))
        yield Vault(engine, MASTER, BLIND)
        engine.dispose()


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=st.text(min_size=1, max_size=100), data=st.dictionaries(st.text(), _json, max_size=6))
def test_round_trip_property(shared_vault, subject, data):
    engine = shared_vault.engine
    with engine.begin() as conn:
        sealed = shared_vault.seal(conn, subject, data)
    assert shared_vault.open(subject, sealed) == data
    assert Vault(engine, MASTER, BLIND).open(subject, sealed) == data
