"""Master key rotation through the CLI: every service's keys re-wrapped, data still readable."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.cli import app
from shared.eventstore import make_engine, migrate
from shared.settings import Settings
from shared.vault import Vault, VaultError


def test_rotation_rewraps_every_service_and_replaces_the_dev_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("BUDDY_MASTER_KEY", "BUDDY_DATABASE_URL", "BUDDY_ENV", "BUDDY_NEW_MASTER_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BUDDY_DATA_DIR", str(tmp_path))
    settings = Settings()
    old = settings.key_bytes("master_key")
    blind = settings.key_bytes("blind_index_key")
    sealed = {}
    for service in ("recruitment", "matching", "followup"):
        engine = make_engine(settings.database_url_of(service))
        migrate(engine, service)
        with engine.begin() as conn:
            sealed[service] = Vault(engine, old, blind).seal(conn, f"person-{service}", {"first_name": "Aline"})
        engine.dispose()
    new = secrets.token_bytes(32)
    result = CliRunner().invoke(app, ["keys", "rotate", "--new-key", base64.b64encode(new).decode()])
    assert result.exit_code == 0, result.output
    assert "recruitment: 1 data keys re-wrapped" in result.output
    assert base64.b64decode((tmp_path / "master_key.dev").read_text()) == new
    for service, blob in sealed.items():
        engine = make_engine(settings.database_url_of(service))
        assert Vault(engine, new, blind).open(f"person-{service}", blob) == {"first_name": "Aline"}
        with pytest.raises(VaultError):
            Vault(engine, old, blind).open(f"person-{service}", blob)
        engine.dispose()


def test_a_wrong_new_key_is_refused_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDDY_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["keys", "rotate", "--new-key", base64.b64encode(b"short").decode()])
    assert result.exit_code != 0
    assert "32 bytes" in result.output
