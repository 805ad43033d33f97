"""The event catalogue (JSON Schema and AsyncAPI) and the event registry."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema
import pytest
from jsonschema.validators import validator_for

from shared.catalogue import (
    CATALOGUE_SERVICES,
    asyncapi_document,
    catalogue_models,
    def_name,
    json_schema_document,
)
from shared.contracts.recruitment import ProjectRegistered
from shared.events.envelope import Actor, Envelope, Role
from shared.events.registry import REGISTRY, DomainEvent, UnknownEventType, event, upcaster

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
ASYNCAPI_SCHEMA = SCHEMAS / "asyncapi-3.0.0.json"
UPSTREAM_ASYNCAPI_SCHEMA = ROOT.parent / "shared" / "schemas" / "asyncapi-3.0.0.json"
STALE = "run `buddy docs export` and commit docs/"


# --------------------------------------------------------------------------- throwaway event types
# They register into the global REGISTRY, under a service the catalogue leaves out.
@event("TestThingHappened", version=1, service="test", stream_type="thing")
class ThingHappenedV1(DomainEvent):
    thing_id: str
    size: int


@event("TestThingHappened", version=2, service="test", stream_type="thing")
class ThingHappened(DomainEvent):
    thing_id: str
    size_cm: int
    colour: str = "unknown"


@upcaster("TestThingHappened", from_version=1)
def _thing_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {"thing_id": payload["thing_id"], "size_cm": payload["size"]}


@event("TestGapHappened", version=1, service="test", stream_type="thing")
class GapHappenedV1(DomainEvent):
    gap_id: str


@event("TestGapHappened", version=2, service="test", stream_type="thing")
class GapHappened(DomainEvent):
    gap_id: str
    width: int


# --------------------------------------------------------------------------- helpers
def as_json(doc: dict[str, Any]) -> Any:
    """What the document is once written: `buddy docs export` writes exactly this JSON."""
    return json.loads(json.dumps(doc, indent=2, sort_keys=True))


@pytest.fixture(scope="module")
def schema_doc() -> dict[str, Any]:
    return as_json(json_schema_document())


@pytest.fixture(scope="module")
def asyncapi_doc() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overwritten channel or schema would be a warning
        return as_json(asyncapi_document())


def envelope_example(**overrides: Any) -> Envelope:
    payload = ProjectRegistered(
        project_id="p-gent-1",
        name="Buddywerking Gent",
        organisation="CAW Oost-Vlaanderen",
        municipality_nis="44021",
        region="Gent",
        target_groups=["individual_adult", "family"],
    )
    now = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    fields: dict[str, Any] = dict(
        event_id=uuid4(),
        type=ProjectRegistered.event_type,
        schema_version=ProjectRegistered.schema_version,
        service=ProjectRegistered.service,
        stream_type=ProjectRegistered.stream_type,
        stream_id="p-gent-1",
        version=1,
        position=1,
        occurred_at=now,
        recorded_at=now,
        project_id="p-gent-1",
        actor=Actor(id="coord-7", role=Role.coordinator),
        correlation_id=uuid4(),
        payload=payload.model_dump(mode="json"),
    )
    fields.update(overrides)
    return Envelope(**fields)


def allowed_values(prop: dict[str, Any]) -> list[Any]:
    """The values a `Literal` field allows: pydantic writes `const` for one, `enum` for more."""
    return [prop["const"]] if "const" in prop else prop["enum"]


def schema_validator(doc: dict[str, Any], ref: str | None = None) -> jsonschema.Validator:
    schema = doc if ref is None else {"$schema": doc["$schema"], "$defs": doc["$defs"], "$ref": ref}
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# --------------------------------------------------------------------------- committed docs
@pytest.mark.parametrize(
    ("filename", "generate"),
    [("events.schema.json", json_schema_document), ("asyncapi.json", asyncapi_document)],
)
def test_committed_docs_are_up_to_date(filename: str, generate: Any) -> None:
    path = DOCS / filename
    assert path.exists(), f"docs/{filename} is missing: {STALE}"
    committed = path.read_text()
    fresh = json.dumps(generate(), indent=2, sort_keys=True) + "\n"
    assert committed == fresh, f"docs/{filename} is out of date: {STALE}"


def test_generation_is_deterministic_across_processes(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        code = (
            "import json; from shared.catalogue import asyncapi_document, json_schema_document; "
            "print(json.dumps([json_schema_document(), asyncapi_document()], indent=2, sort_keys=True))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True, text=True, check=True, cwd=ROOT, timeout=120,
            env={"PYTHONHASHSEED": seed, "BUDDY_STREAM_PREFIX": f"other{seed}", "PATH": ""},
        )  # fmt: skip
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert "other1" not in outputs[0], "the catalogue must not depend on the environment"


# --------------------------------------------------------------------------- AsyncAPI
def test_asyncapi_validates_against_the_official_schema(asyncapi_doc: dict[str, Any]) -> None:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text())
    cls = validator_for(schema)
    validator = cls(schema)
    errors = sorted(validator.iter_errors(asyncapi_doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors)
    # FastStream names component messages `<channel>:<Message>`; the official schema only
    # checks component keys matching `^[\w\d.\-_]+$`, so check those messages explicitly.
    message_schema = {**schema, "$ref": "#/definitions/messageObject"}
    for key in ("properties", "required", "additionalProperties", "patternProperties", "type", "title"):
        message_schema.pop(key, None)
    message_validator = cls(message_schema)
    for name, message in asyncapi_doc["components"]["messages"].items():
        problems = [e.message[:300] for e in message_validator.iter_errors(message)]
        assert not problems, f"components/messages/{name}: {problems}"


def test_asyncapi_schema_copy_equals_upstream() -> None:
    if not UPSTREAM_ASYNCAPI_SCHEMA.exists():
        pytest.skip(f"no upstream copy at {UPSTREAM_ASYNCAPI_SCHEMA}")
    assert json.loads(ASYNCAPI_SCHEMA.read_text()) == json.loads(UPSTREAM_ASYNCAPI_SCHEMA.read_text())


def test_asyncapi_has_a_publisher_per_writer_and_a_subscriber_per_consumer(asyncapi_doc: dict[str, Any]) -> None:
    assert asyncapi_doc["asyncapi"] == "3.0.0"
    assert asyncapi_doc["info"]["title"] == "Buddywerking events"
    assert asyncapi_doc["info"]["version"] == "0.1.0"
    sends = {
        op["channel"]["$ref"].rsplit("/", 1)[-1]
        for op in asyncapi_doc["operations"].values()
        if op["action"] == "send"
    }
    assert sends == {f"{s}.events" for s in CATALOGUE_SERVICES}
    groups = {
        (ch["bindings"]["redis"]["groupName"], ch["address"])
        for ch in asyncapi_doc["channels"].values()
        if ch["bindings"]["redis"]["method"] == "xreadgroup"
    }
    assert groups == {
        ("matching", "buddy:events:recruitment"),
        ("recruitment", "buddy:events:matching"),
        ("followup", "buddy:events:matching"),
        ("reporting", "buddy:events:recruitment"),
        ("reporting", "buddy:events:matching"),
        ("reporting", "buddy:events:followup"),
    }
    for service in CATALOGUE_SERVICES:
        assert asyncapi_doc["channels"][f"{service}.events"]["address"] == f"buddy:events:{service}"


# --------------------------------------------------------------------------- both documents
def test_every_registered_event_type_is_in_both_documents(
    schema_doc: dict[str, Any], asyncapi_doc: dict[str, Any]
) -> None:
    models = catalogue_models()
    assert {m.service for m in models} == set(CATALOGUE_SERVICES)
    expected = {m for m in REGISTRY.models() if m.service in CATALOGUE_SERVICES}
    assert set(models) == expected

    branches = {(b["properties"]["type"]["const"], b["properties"]["schema_version"]["const"]): b for b in schema_doc["oneOf"]}
    schemas = asyncapi_doc["components"]["schemas"]
    for model in models:
        branch = branches[(model.event_type, model.schema_version)]
        assert branch["properties"]["service"] == {"const": model.service}
        assert branch["properties"]["stream_type"] == {"const": model.stream_type}
        assert branch["properties"]["payload"] == {"$ref": f"#/$defs/{def_name(model)}"}
        assert def_name(model) in schema_doc["$defs"]

        envelope = schemas[f"{model.service[:1].upper()}{model.service[1:]}Event"]
        assert model.event_type in allowed_values(envelope["properties"]["type"])
        assert model.stream_type in allowed_values(envelope["properties"]["stream_type"])
        assert allowed_values(envelope["properties"]["service"]) == [model.service]
        payload = envelope["properties"]["payload"]
        refs = {alt["$ref"] for alt in payload.get("anyOf", [payload])}  # one model: a plain $ref
        title = model.model_json_schema()["title"]
        assert f"#/components/schemas/{title}" in refs
        assert schemas[title]["title"] == title
    assert len(branches) == len(models)


def test_test_only_event_types_stay_out_of_the_catalogue(
    schema_doc: dict[str, Any], asyncapi_doc: dict[str, Any]
) -> None:
    assert REGISTRY.latest("TestThingHappened") is ThingHappened  # registered, yet:
    assert "TestThingHappened" not in json.dumps(schema_doc)
    assert "TestThingHappened" not in json.dumps(asyncapi_doc)


# Field names that suggest personal data; such data never goes on the bus (see shared.vault).
PERSONAL = {"name", "first_name", "last_name", "email", "phone", "address", "birth_date", "note", "notes"}
# Fields reviewed and allowed despite their name.
ALLOWED = {
    ("ProjectRegistered", "name"),  # the name of a project, organisational and public
}


def suggests_personal_data(field: str) -> bool:
    return field in PERSONAL or any(field.endswith(f"_{word}") for word in PERSONAL)


def test_no_payload_field_suggests_personal_data() -> None:
    found = []
    for model in catalogue_models():
        schema = model.model_json_schema()
        objects = [(model.event_type, schema)] + [(f"{model.event_type}/{k}", v) for k, v in schema.get("$defs", {}).items()]
        for owner, obj in objects:
            for field, spec in obj.get("properties", {}).items():
                if spec.get("type") == "boolean":  # a flag such as has_private_note holds no data
                    continue
                if suggests_personal_data(field) and (owner, field) not in ALLOWED:
                    found.append(f"{owner}.{field}")
    assert not found, f"payload fields that look like personal data: {found}"
    assert suggests_personal_data("last_name") and suggests_personal_data("contact_email")


# --------------------------------------------------------------------------- JSON Schema
def test_json_schema_is_a_valid_2020_12_schema(schema_doc: dict[str, Any]) -> None:
    assert schema_doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema_doc)
    assert {"Envelope", "Actor", "Role"} <= set(schema_doc["$defs"])


def test_json_schema_validates_a_real_envelope(schema_doc: dict[str, Any]) -> None:
    example = envelope_example().model_dump(mode="json")
    schema_validator(schema_doc, "#/$defs/Envelope").validate(example)
    schema_validator(schema_doc, "#/$defs/ProjectRegistered.v1").validate(example["payload"])
    schema_validator(schema_doc).validate(example)  # exactly one catalogue branch fits


def test_json_schema_rejects_what_is_no_published_event(schema_doc: dict[str, Any]) -> None:
    validator = schema_validator(schema_doc)
    good = envelope_example().model_dump(mode="json")
    bad_payload = {**good, "payload": {**good["payload"], "email": "someone@example.org"}}
    wrong_service = {**good, "service": "matching"}
    unknown_type = {**good, "type": "SomethingElse"}
    no_actor = {k: v for k, v in good.items() if k != "actor"}
    for bad in (bad_payload, wrong_service, unknown_type, no_actor):
        assert not validator.is_valid(bad)


# --------------------------------------------------------------------------- registry
def test_upcaster_lifts_v1_to_v2() -> None:
    decoded = REGISTRY.decode("TestThingHappened", 1, {"thing_id": "t1", "size": 12})
    assert decoded == ThingHappened(thing_id="t1", size_cm=12)
    assert REGISTRY.decode("TestThingHappened", 2, {"thing_id": "t2", "size_cm": 3, "colour": "red"}).colour == "red"
    assert REGISTRY.latest("TestThingHappened") is ThingHappened
    assert ThingHappenedV1 in REGISTRY.of_service("test")


def test_unknown_event_type_raises() -> None:
    with pytest.raises(UnknownEventType):
        REGISTRY.decode("NoSuchThingHappened", 1, {})
    with pytest.raises(UnknownEventType):
        REGISTRY.latest("NoSuchThingHappened")


def test_missing_upcaster_raises_with_a_clear_message() -> None:
    with pytest.raises(UnknownEventType, match=r"TestGapHappened v1: no upcaster to v2"):
        REGISTRY.decode("TestGapHappened", 1, {"gap_id": "g1"})
    assert REGISTRY.decode("TestGapHappened", 2, {"gap_id": "g1", "width": 4}) == GapHappened(gap_id="g1", width=4)
    assert GapHappenedV1.schema_version == 1


def test_registering_a_different_model_under_a_taken_key_fails() -> None:
    class Impostor(DomainEvent):
        thing_id: str

    with pytest.raises(ValueError, match="registered twice"):
        event("TestThingHappened", version=2, service="test", stream_type="thing")(Impostor)
