"""The README stays true to the code: every setting is documented."""

from pathlib import Path

from shared.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [f"BUDDY_{name.upper()}" for name in Settings.model_fields if f"`BUDDY_{name.upper()}`" not in README]
    assert not missing, f"add these to the README's configuration table: {missing}"


def test_the_two_commands_are_there() -> None:
    assert "make run" in README and "make test" in README
