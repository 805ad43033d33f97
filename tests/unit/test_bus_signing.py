"""The bus key: every entry the relay publishes verifies, nothing else does, rotation works."""

from __future__ import annotations

import base64

import pytest

from shared.bus.signing import MAC_KEY, BusKeys, NotAuthentic
from shared.bus.wire import DATA_KEY
from shared.settings import Settings

OLD, NEW, OTHER = b"o" * 32, b"n" * 32, b"x" * 32
STREAM = "buddy:events:recruitment"
DATA = b"an encoded event"


def signed(keys: BusKeys, data: bytes = DATA, stream: str = STREAM) -> dict[bytes, bytes]:
    return {DATA_KEY: data, MAC_KEY: keys.sign(stream, data)}


def test_an_entry_signed_with_the_key_verifies() -> None:
    keys = BusKeys([OLD])
    keys.verify(STREAM, signed(keys))
    keys.verify(STREAM.encode(), {k.decode(): v for k, v in signed(keys).items()})  # as str field names


@pytest.mark.parametrize(("fields", "says"), [
    ({DATA_KEY: DATA}, "carries no MAC"),
    ({DATA_KEY: DATA, MAC_KEY: b"short"}, "has 5 bytes"),
    (signed(BusKeys([OTHER])), "key this service does not hold"),
    ({DATA_KEY: DATA + b"!", MAC_KEY: signed(BusKeys([OLD]))[MAC_KEY]}, "does not match"),
    (signed(BusKeys([OLD]), stream="buddy:events:matching"), "does not match"),  # copied from another stream
    ({MAC_KEY: signed(BusKeys([OLD]))[MAC_KEY]}, "no __data__"),
])
def test_anything_else_is_not_authentic(fields: dict[bytes, bytes], says: str) -> None:
    with pytest.raises(NotAuthentic, match=says):
        BusKeys([OLD]).verify(STREAM, fields)


def test_during_a_rotation_entries_of_either_key_verify_and_the_first_key_signs() -> None:
    before, during, after = BusKeys([OLD]), BusKeys([NEW, OLD]), BusKeys([NEW])
    during.verify(STREAM, signed(before))  # published before the rotation, read during it
    before.verify(STREAM, signed(BusKeys([OLD, NEW])))  # the first step: the new key verifies, the old signs
    after.verify(STREAM, signed(during))
    with pytest.raises(NotAuthentic):
        after.verify(STREAM, signed(before))


def test_settings_read_a_comma_separated_list_of_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = ",".join(base64.b64encode(k).decode() for k in (NEW, OLD))
    assert Settings(data_dir=tmp_path, bus_key=text).bus_keys() == [NEW, OLD]
    with pytest.raises(ValueError, match="BUDDY_BUS_KEY must be 32 bytes"):
        Settings(data_dir=tmp_path, bus_key=base64.b64encode(b"short").decode()).bus_keys()


def test_the_dev_default_keeps_one_key_in_the_data_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = Settings(data_dir=tmp_path).bus_keys()
    assert len(first[0]) == 32 and (tmp_path / "bus_key.dev").exists()
    assert Settings(data_dir=tmp_path).bus_keys() == first  # every service of one data folder shares it


def test_production_requires_a_bus_key() -> None:
    key = base64.b64encode(b"k" * 32).decode()
    with pytest.raises(ValueError, match="BUDDY_BUS_KEY"):
        Settings(env="production", redis_url="redis://r:6379/0", database_url="postgresql://x/y", master_key=key,
                 blind_index_key=key, oidc_issuer="https://id/", oidc_audience="a", oidc_jwks_url="https://id/j",
                 service_token="a-long-random-service-token")


def test_the_mac_is_hmac_sha256_over_the_stream_name_and_the_message() -> None:
    """Anything that holds the key can check an entry with a plain HMAC (an auditor's script, say)."""
    import hashlib
    import hmac
    import struct

    from shared.bus.signing import key_id

    mac = BusKeys([OLD]).sign(STREAM, DATA)
    framed = struct.pack(">H", len(STREAM)) + STREAM.encode()
    assert mac == key_id(OLD) + hmac.digest(OLD, framed + DATA, hashlib.sha256)
