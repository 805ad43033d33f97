"""The `buddy` command: serve one service, run the whole system, verify and export."""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from shared.settings import SERVICES, Settings

app = typer.Typer(help="Buddywerking: case logging and anonymised reporting.", no_args_is_help=True)
audit = typer.Typer(help="Audit the event history.", no_args_is_help=True)
docs = typer.Typer(help="Generated documentation.", no_args_is_help=True)
keys = typer.Typer(help="Key management.", no_args_is_help=True)
privacy = typer.Typer(help="Personal data: access requests, erasure requests, retention.", no_args_is_help=True)
reporting = typer.Typer(help="The reporting service's projections.", no_args_is_help=True)
app.add_typer(reporting, name="reporting")
app.add_typer(audit, name="audit")
app.add_typer(docs, name="docs")
app.add_typer(keys, name="keys")
app.add_typer(privacy, name="privacy")

Service = StrEnum("Service", {name: name for name in (*SERVICES, "web")})  # type: ignore[misc]
WRITING_SERVICES = tuple(s for s in SERVICES if s != "reporting")


def build_app(service: str, settings: Settings):  # type: ignore[no-untyped-def]
    """The FastAPI app of one service; services are imported only when asked for."""
    import importlib

    return importlib.import_module(f"services.{service}.bootstrap").build(settings)


@app.command()
def serve(service: Annotated[Service, typer.Argument(help="Which service to run.")]) -> None:
    """Run one service: its HTTP API, its relay and its subscribers, in one process."""
    import uvicorn

    settings = Settings()
    if service.value == "web":  # the web front: BUDDY_PORT if given, else BUDDY_WEB_PORT (8000)
        from services.web.config import WebSettings

        port = settings.port or WebSettings().port
    else:
        port = settings.port_of(service.value)
    uvicorn.run(build_app(service.value, settings), host=settings.host, port=port,
                log_config=None, access_log=False, timeout_graceful_shutdown=10)


@app.command()
def run(
    demo: Annotated[bool, typer.Option(help="Load a small demo data set through the public APIs.")] = True,
    base_port: Annotated[int | None, typer.Option(
        min=1, max=65_535 - 4, help="Services on this + 1 to + 4 (default BUDDY_BASE_PORT, 8000: 8001–8004); "
                                    "the web front on the base itself.")] = None,
) -> None:
    """Start the whole system on this machine: Redis, the four services, SQLite under the data folder.

    Refuses to start when one of the ports is in use, naming it.
    """
    import os

    from shared.supervisor import run_system

    # The embedded system is development by construction: it asks for the dev tokens, for
    # itself and the service processes it starts (they inherit the environment). Settings
    # that mark a real installation still refuse them (Settings.dev_token_refusals).
    os.environ.setdefault("BUDDY_DEV_TOKENS", "true")
    raise typer.Exit(run_system(Settings(), demo=demo, base_port=base_port))


@audit.command("verify")
def verify(
    service: Annotated[list[Service] | None, typer.Option(help="Only these services (default: all that write).")] = None,
    bus: Annotated[bool, typer.Option(help="Also check every event on the Redis streams against the stores.")] = False,
    feeds: Annotated[bool, typer.Option(help="Also check the services' HTTP feeds against the stores.")] = False,
) -> None:
    """Check each store's hash chain and gapless positions, and optionally the bus and feeds.

    Exit 1 names the first broken event.
    """
    import asyncio

    from shared.eventstore import EventStore, make_engine

    settings, failed = Settings(), False
    for name in [s.value for s in service] if service else WRITING_SERVICES:
        engine = make_engine(settings.database_url_of(name))
        store = EventStore(engine, name)
        result = store.verify()
        if result.ok:
            typer.echo(f"{name}: store ok — {result.checked} events, head {result.head_position} "
                       f"(hash {result.head_hash})")  # the head the walk checked, not a later one
        else:
            from shared.audit import first_broken_event

            failed = True
            position, event_id = first_broken_event(store, result)
            typer.echo(f"{name}: store BROKEN at position {position} "
                       f"(event {event_id or 'missing'}): {result.problems[0]}", err=True)
        for check in asyncio.run(_copy_checks(settings, store, name, bus=bus, feeds=feeds)):
            if check.ok:
                typer.echo(f"{name}: {check.source} ok — {check.checked} events"
                           + (f", {check.missing} not on it (filled from the feed)" if check.missing else ""))
            else:
                failed = True
                typer.echo(f"{name}: {check.source} BROKEN: {check.problems[0]}"
                           + (f" (+{len(check.problems) - 1} more)" if len(check.problems) > 1 else ""), err=True)
        engine.dispose()
    raise typer.Exit(1 if failed else 0)


async def _copy_checks(settings: Settings, store, name: str, *, bus: bool, feeds: bool) -> list:  # type: ignore[no-untyped-def]
    from shared.audit import verify_feed, verify_stream
    from shared.bus import HttpFeed
    from shared.bus.connect import open_client

    checks = []
    if bus:
        if not settings.redis_url:
            raise typer.BadParameter("--bus needs BUDDY_REDIS_URL")
        async with open_client(settings.redis_url) as redis:
            checks.append(await verify_stream(store, redis, settings.stream_of(name)))
    if feeds:
        feed = HttpFeed({name: settings.url_of(name)}, settings.service_token.get_secret_value())
        try:
            checks.append(await verify_feed(store, feed, name))
        finally:
            await feed.aclose()
    return checks


def _feed(settings: Settings):  # type: ignore[no-untyped-def]
    from shared.bus import HttpFeed

    return HttpFeed({name: settings.url_of(name) for name in WRITING_SERVICES}, settings.service_token.get_secret_value())


@reporting.command("rebuild")
def rebuild_reporting(
    into: Annotated[str | None, typer.Option(help="SQLAlchemy URL of an EMPTY database to build into "
                                                  "(default: a new SQLite file in the data folder).")] = None,
) -> None:
    """Replay every producer's feed into fresh reporting projections, with a progress bar."""
    import asyncio

    from rich.progress import Progress

    from shared.eventstore import make_engine
    from services.reporting.rebuild import rebuild

    settings = Settings()
    url = into or f"sqlite:///{(settings.data_dir / 'reporting-rebuilt.db').as_posix()}"
    if into is None and (settings.data_dir / "reporting-rebuilt.db").exists():
        raise typer.BadParameter(f"{settings.data_dir / 'reporting-rebuilt.db'} exists; remove it or give --into")
    engine = make_engine(url)

    async def run() -> dict[str, int]:
        feed = _feed(settings)
        try:
            with Progress() as bar:
                tasks: dict[str, int] = {}

                def progress(upstream: str, position: int, until: int) -> None:
                    if upstream not in tasks:
                        tasks[upstream] = bar.add_task(upstream, total=until)
                    bar.update(tasks[upstream], completed=position)

                return await rebuild(engine, feed, progress=progress)
        finally:
            await feed.aclose()

    reached = asyncio.run(run())
    engine.dispose()
    typer.echo(f"rebuilt into {url}: " + ", ".join(f"{k} up to {v}" for k, v in reached.items()))


@reporting.command("apply-erasures")
def apply_reporting_erasures(
    from_stores: Annotated[bool, typer.Option(help="Read the producers' stores directly instead of their HTTP "
                                                   "feeds.")] = False,
) -> None:
    """Re-key the reporting rows of every person erased so far (once, after upgrading to revision 0307)."""
    import asyncio

    from shared.eventstore import make_engine
    from services.reporting.rebuild import apply_erasures

    settings = Settings()
    engine = make_engine(settings.database_url_of("reporting"))

    async def run() -> dict[str, int]:
        feed = _store_feed(settings) if from_stores else _feed(settings)
        try:
            return await apply_erasures(engine, feed)
        finally:
            await _close_feed(feed)

    applied = asyncio.run(run())
    engine.dispose()
    typer.echo("erasures applied to reporting: " + ", ".join(f"{k} {v}" for k, v in applied.items()))


@audit.command("reproduce")
def reproduce(
    report_id: Annotated[str, typer.Argument(help="The id of a published report.")],
    from_stores: Annotated[bool, typer.Option(help="Read the producers' stores directly instead of their HTTP "
                                                   "feeds.")] = False,
) -> None:
    """Recompute a published report by replay to its watermark and compare the content hash."""
    import asyncio
    import tempfile

    from shared.eventstore import make_engine
    from shared.eventstore.db import reader
    from services.reporting import records
    from services.reporting.rebuild import rebuild
    from services.reporting.reports import compute

    settings = Settings()
    live = make_engine(settings.database_url_of("reporting"))
    with reader(live).connect() as conn:
        report = records.get(conn, report_id)
    live.dispose()
    if report is None:
        typer.echo(f"Rapport {report_id} bestaat niet / Report {report_id} does not exist", err=True)
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="buddy-reproduce-") as folder:
        engine = make_engine(f"sqlite:///{folder}/replay.db")

        async def run() -> None:
            feed = _store_feed(settings) if from_stores else _feed(settings)
            try:
                await rebuild(engine, feed, watermark=report["computed_from"])
            finally:
                await _close_feed(feed)

        asyncio.run(run())
        with reader(engine).connect() as conn:
            digest = records.content_hash(compute(conn, report["kind"], report["parameters"]))
        engine.dispose()
    if digest == report["content_hash"]:
        typer.echo(f"{report_id}: reproduced — hash {digest} from {report['computed_from']}")
        return
    typer.echo(f"{report_id}: NOT reproduced — stored {report['content_hash']}, replay gives {digest}", err=True)
    raise typer.Exit(1)


Token = Annotated[str | None, typer.Option(
    envvar="BUDDY_TOKEN", help="Your access token (env BUDDY_TOKEN); the services check it and record who read what.")]


def _moment(text: str) -> "datetime":
    """An ISO time (UTC when no zone is given); a bare date means the end of that day."""
    from datetime import UTC, datetime, time

    try:
        if len(text) == 10:
            return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is no ISO date or time (e.g. 2026-03-02 or 2026-03-02T12:00:00+00:00)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _service_call(method: str, url: str, token: str | None, tries: int = 3, **kwargs):  # type: ignore[no-untyped-def]
    """A call in the user's name; a command is sent with one Idempotency-Key on every try,
    so a try whose answer was lost (a dropped connection, a 503) is not recorded twice."""
    import time as clock

    import httpx

    if not token:
        raise typer.BadParameter("give --token (or BUDDY_TOKEN): reading personal data is done in your name")
    headers = {"Authorization": f"Bearer {token}"}
    if method != "GET":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    for attempt in range(1, tries + 1):
        try:
            resp = httpx.request(method, url, headers=headers, timeout=60, **kwargs)
        except httpx.HTTPError as exc:
            if attempt < tries and method != "GET":
                clock.sleep(attempt)
                continue
            typer.echo(f"{url}: not reachable ({type(exc).__name__}); is the service running?", err=True)
            raise typer.Exit(2) from None
        if method != "GET" and resp.status_code in (409, 503) and resp.headers.get("retry-after") and attempt < tries:
            clock.sleep(min(float(resp.headers["retry-after"]), 5.0))  # unavailable, or the key still in use
            continue
        return resp
    return resp


def _refused(name: str, resp) -> None:  # type: ignore[no-untyped-def]
    typer.echo(f"{name}: {resp.status_code} {resp.json().get('detail', resp.text)}", err=True)
    raise typer.Exit(2 if resp.status_code in (401, 403, 422) else 1)


@audit.command("history")
def history(
    subject_id: Annotated[str, typer.Argument(help="A volunteer, participant or duo id.")],
    reason: Annotated[str | None, typer.Option(
        help="Also decrypt personal data, for this reason: audit, subject_access_request, legal_obligation, "
             "care_continuity or other. Every service records the read.")] = None,
    note: Annotated[str | None, typer.Option(help="A note on the reason; sealed under the person's key.")] = None,
    token: Token = None,
    duos: Annotated[bool, typer.Option(help="Include the events of the duos the person was in.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")] = False,
) -> None:
    """The full timeline of one volunteer, participant or duo across the services (public parts).

    Personal data only with --reason and a token of an admin, an auditor or a professional
    of the person's project; each service records that read as an event.
    """
    import asyncio

    from shared.audit import timeline
    from shared.contracts.audit import AccessReason

    settings = Settings()
    if reason is not None and reason not in AccessReason.__members__:
        raise typer.BadParameter(f"reason must be one of {', '.join(AccessReason)}")

    async def read() -> list:
        feed = _feed(settings)
        try:
            return await timeline(feed, subject_id, WRITING_SERVICES, follow_duos=duos)
        finally:
            await feed.aclose()

    items = asyncio.run(read())
    personal: dict[tuple[str, int], object] = {}
    recorded: dict[str, int] = {}
    if reason is not None:
        body = {"reason": reason, **({"note": note} if note else {})}
        for name in WRITING_SERVICES:
            resp = _service_call("POST", f"{settings.url_of(name)}/personal-data/{subject_id}/access", token, json=body)
            if resp.status_code == 404:
                continue
            if resp.status_code != 200:
                _refused(name, resp)
            answer = resp.json()
            recorded[name] = answer["access_recorded_at"]
            for item in answer["personal_data"]:
                personal[(name, item["position"])] = item["data"]
    if not items and not recorded:
        typer.echo(f"{subject_id}: no events in {', '.join(WRITING_SERVICES)}", err=True)
        raise typer.Exit(2)
    if as_json:
        out = []
        for i in items:
            entry = {"service": i.service, "via": i.via, **i.envelope.model_dump(mode="json")}
            if (i.service, i.envelope.position) in personal:
                entry["personal_data"] = personal[(i.service, i.envelope.position)]
            out.append(entry)
        typer.echo(json.dumps({"subject_id": subject_id, "events": out, "access_recorded_at": recorded}, indent=2))
        return
    for i in items:
        env = i.envelope
        duo = f"  [{i.via.replace(':', ' ')}]" if i.via != "subject" else ""
        typer.echo(f"{env.recorded_at:%Y-%m-%d %H:%M:%S}  {i.service:<11} #{env.position:<6} {env.type:<34} "
                   f"{env.stream_type}:{env.stream_id}  by {env.actor.role} {env.actor.id}{duo}")
        if (i.service, env.position) in personal:
            typer.echo(f"{'':>22}personal data: {json.dumps(personal[(i.service, env.position)], ensure_ascii=False)}")
    services = sorted({i.service for i in items})
    typer.echo(f"{len(items)} events in {', '.join(services) or 'no service'}"
               + (f"; read recorded in {', '.join(f'{k} #{v}' for k, v in recorded.items())}" if recorded else ""))


def _store_feed(settings: Settings):  # type: ignore[no-untyped-def]
    """The producers' stores read directly (the same envelopes as their HTTP feeds)."""
    from shared.bus import StoreFeed
    from shared.eventstore import EventStore, make_engine

    return StoreFeed({name: EventStore(make_engine(settings.database_url_of(name)), name) for name in WRITING_SERVICES})


async def _close_feed(feed) -> None:  # type: ignore[no-untyped-def]
    close = getattr(feed, "aclose", None)
    if close is not None:
        await close()
    for store in getattr(feed, "stores", {}).values():
        store.engine.dispose()


@audit.command("replay")
def replay(
    as_of: Annotated[str, typer.Option("--as-of", help="The moment: ISO time (UTC if no zone) or a date "
                                                         "(its end).")],
    service: Annotated[Service, typer.Option(help="Which service, or reporting for the reports.")],
    into: Annotated[str, typer.Option(help="SQLAlchemy URL of an EMPTY database to build into (never the live one).")],
    from_stores: Annotated[bool, typer.Option(help="Read the producers' stores directly instead of their HTTP "
                                                   "feeds (reporting, and follow-up's roster).")] = False,
) -> None:
    """Rebuild a service's state, or the reports, as known at a moment, into a separate database.

    A writing service: its events recorded by then, copied byte for byte (the chain
    verifies), and its read models rebuilt from them. Reporting: the projections rebuilt
    from every producer up to its last event recorded by then. The live databases are only read.
    """
    import asyncio

    from shared.audit import replay_service

    settings, moment = Settings(), _moment(as_of)
    if service.value != "reporting" and into.replace("sqlite:///", "") == settings.database_url_of(
            service.value).replace("sqlite:///", ""):
        raise typer.BadParameter("--into is the live database; give a separate, empty one")

    async def run():  # type: ignore[no-untyped-def]
        feed = _store_feed(settings) if from_stores else _feed(settings)
        try:
            return await replay_service(settings, service.value, moment, into, feed=feed)
        finally:
            await _close_feed(feed)

    try:
        result = asyncio.run(run())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if service.value == "reporting":
        typer.echo(f"reporting as of {result.as_of}: projections rebuilt into {into} from "
                   + ", ".join(f"{k} up to {v}" for k, v in result.watermark.items()))
        return
    verification = result.verification
    typer.echo(f"{service.value} as of {result.as_of}: {result.events} events copied into {into} "
               f"(head {result.head_position}, hash {result.head_hash}); read models rebuilt from "
               f"{result.read_models} events"
               + (f"; roster from matching up to {result.watermark['matching']}" if result.watermark else ""))
    if verification is None or not verification.ok:
        typer.echo(f"{service.value}: the replayed chain does NOT verify: "
                   f"{verification.problems[0] if verification else 'not checked'}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{service.value}: replayed chain ok — {verification.checked} events")


@keys.command("rotate")
def rotate(
    new_key: Annotated[str | None, typer.Option(envvar="BUDDY_NEW_MASTER_KEY", help="New base64 32-byte master key.")] = None,
) -> None:
    """Re-wrap every person's data key under a new master key, in all services at once.

    Events are not re-encrypted. Stop the services first; restart them with the new key.
    Every store commits only when every store has re-wrapped, so a failure changes nothing.
    """
    import base64
    import secrets
    from contextlib import ExitStack

    from shared.eventstore import make_engine
    from shared.vault import Vault

    settings = Settings()
    generated = new_key is None
    raw = secrets.token_bytes(32) if generated else base64.b64decode(new_key)
    if len(raw) != 32:
        raise typer.BadParameter("the new master key must be 32 bytes, base64-encoded")
    old, blind = settings.key_bytes("master_key"), settings.key_bytes("blind_index_key")
    counts: dict[str, int] = {}
    with ExitStack() as stack:
        for name in WRITING_SERVICES:
            engine = make_engine(settings.database_url_of(name))
            stack.callback(engine.dispose)
            conn = stack.enter_context(engine.begin())
            counts[name] = Vault(engine, old, blind).rewrap(conn, raw)
    encoded = base64.b64encode(raw).decode()
    for name, count in counts.items():
        typer.echo(f"{name}: {count} data keys re-wrapped")
    if settings.master_key is None and settings.env == "dev":
        (settings.data_dir / "master_key.dev").write_text(encoded)
        typer.echo("The dev master key in the data folder was replaced. Restart the services.")
    else:
        typer.echo("Set BUDDY_MASTER_KEY to the new key and restart the services."
                   + (f" New key (shown once): {encoded}" if generated else ""))


@privacy.command("export")
def export_personal_data(
    subject_id: Annotated[str, typer.Argument(help="A volunteer's or participant's id.")],
    reason: Annotated[str, typer.Option(help="Why: subject_access_request, legal_obligation, audit, "
                                            "care_continuity or other. Every service records the export.")],
    token: Token = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON here (default: standard output).")] = None,
) -> None:
    """Access request: everything every service holds about a person, as one JSON document."""
    from datetime import UTC, datetime

    from shared.contracts.audit import AccessReason

    if reason not in AccessReason.__members__:
        raise typer.BadParameter(f"reason must be one of {', '.join(AccessReason)}")
    settings = Settings()
    services: dict[str, object] = {}
    duos: list[str] = []
    for name in WRITING_SERVICES:  # in journey order: duos named in matching lead to follow-up's duo logs
        resp = _service_call("GET", f"{settings.url_of(name)}/personal-data/{subject_id}/export", token,
                             params=[("reason", reason), *[("duo", d) for d in duos]])
        if resp.status_code == 404:
            services[name] = None
            continue
        if resp.status_code != 200:
            _refused(name, resp)
        body = resp.json()
        services[name] = body
        for event in body["events"]:
            duo = event["payload"].get("duo_id")
            if isinstance(duo, str) and duo != subject_id and duo not in duos:
                duos.append(duo)
    if not any(services.values()):
        typer.echo(f"{subject_id}: no service holds anything about this person", err=True)
        raise typer.Exit(2)
    document = json.dumps({"subject_id": subject_id, "reason": reason,
                           "exported_at": datetime.now(UTC).isoformat(), "services": services},
                          indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(document)
    else:
        out.write_text(document + "\n")
        typer.echo(f"wrote {out}: " + ", ".join(f"{k}: {len(v['events'])} events" if v else f"{k}: nothing"
                                                for k, v in services.items()))


@privacy.command("erase")
def erase_person(
    subject_id: Annotated[str, typer.Argument(help="A volunteer's or participant's id.")],
    token: Token = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait until every service has shredded the keys.")] = 60.0,
) -> None:
    """Erasure request: erase a person in every service that holds them.

    The owning service erases (recruitment for a volunteer, matching for a participant):
    the person's key is destroyed and an erasure event is recorded; services that learn
    of it (follow-up) shred their keys too. Waits until no service holds a key any more.
    """
    import time

    settings = Settings()
    owners = {"recruitment": f"/volunteers/{subject_id}/erasure", "matching": f"/participants/{subject_id}/erasure"}
    erased_by = None
    for name, path in owners.items():
        resp = _service_call("POST", f"{settings.url_of(name)}{path}", token)
        if resp.status_code == 404:
            continue
        if resp.status_code == 409:
            typer.echo(f"{name}: {resp.json().get('detail')}")
            erased_by = name
            break
        if resp.status_code != 200:
            _refused(name, resp)
        typer.echo(f"{name}: personal data erased (the key is destroyed, the erasure is recorded)")
        erased_by = name
        break
    if erased_by is None:
        typer.echo(f"{subject_id}: neither a volunteer nor a participant here", err=True)
        raise typer.Exit(2)
    deadline, pending = time.monotonic() + wait, list(WRITING_SERVICES)
    while pending:
        for name in list(pending):
            resp = _service_call("GET", f"{settings.url_of(name)}/personal-data/{subject_id}", token)
            if resp.status_code == 404 or (resp.status_code == 200 and not resp.json()["holds_key"]):
                typer.echo(f"{name}: holds no key of {subject_id}")
                pending.remove(name)
            elif resp.status_code != 200:
                _refused(name, resp)
        if pending and time.monotonic() > deadline:
            typer.echo(f"still holding a key after {wait:.0f} s: {', '.join(pending)}", err=True)
            raise typer.Exit(1)
        if pending:
            time.sleep(0.2)


@privacy.command("shred-signal")
def shred_signal(
    signal_id: Annotated[str, typer.Argument(help="A policy signal's id (ps-…).")],
    token: Token = None,
) -> None:
    """Admins: shred a policy signal's free text, e.g. when its description or summary names someone.

    Follow-up destroys the key of the sealed description and drops the confirmed summary;
    reporting quotes it no more. Recorded as PolicySignalShredded; the history still verifies.
    """
    settings = Settings()
    resp = _service_call("POST", f"{settings.url_of('followup')}/policy-signals/{signal_id}/shredding", token)
    if resp.status_code == 404:
        typer.echo(f"{signal_id}: no such policy signal in followup", err=True)
        raise typer.Exit(2)
    if resp.status_code == 409:
        typer.echo(f"followup: {resp.json().get('detail')}")
        return
    if resp.status_code != 200:
        _refused("followup", resp)
    typer.echo(f"followup: {signal_id} shredded (description key destroyed: "
               f"{'yes' if resp.json()['key_destroyed'] else 'there was none'}; summary dropped)")


@privacy.command("retention")
def retention(
    apply: Annotated[bool, typer.Option(help="Erase (default: only list who is due).")] = False,
    today: Annotated[str | None, typer.Option(help="Take this day as today (YYYY-MM-DD), e.g. to preview.")] = None,
    schedule: Annotated[bool, typer.Option(help="Keep running: look again every BUDDY_RETENTION_INTERVAL_S.")] = False,
) -> None:
    """Erase personal data BUDDY_RETENTION_YEARS (default 5) after the end of a trajectory.

    Volunteers: from the day they stopped and their last duo ended (recruitment).
    Participants: from a withdrawal or the end of their last duo (matching). Each erasure
    goes through the owning service's own erasure, as the actor `retention`.
    """
    import time
    from datetime import UTC, datetime

    from shared.clock import FixedClock, SystemClock
    from shared.privacy import RetentionSettings, apply_retention

    settings, policy = Settings(), RetentionSettings()
    if today is not None:
        try:
            clock = FixedClock(datetime.strptime(today, "%Y-%m-%d").replace(hour=12, tzinfo=UTC))
        except ValueError:
            raise typer.BadParameter("--today must be YYYY-MM-DD") from None
    else:
        clock = SystemClock()  # type: ignore[assignment]
    while True:
        outcomes = apply_retention(settings, clock=clock, retention=policy, apply=apply)
        for o in outcomes:
            typer.echo(f"{o.service} {o.subject_id} (project {o.project_id}): trajectory ended {o.ended_on}, "
                       f"due {o.due_on}: {o.action}")
        failed = [o for o in outcomes if o.action.startswith("failed")]
        typer.echo(f"{clock.today()}: {len(outcomes)} due after {policy.years} years, "
                   f"{sum(o.action == 'erased' for o in outcomes)} erased, {len(failed)} failed")
        if not schedule:
            raise typer.Exit(1 if failed else 0)
        time.sleep(policy.interval_s)


@docs.command("export")
def export(out: Annotated[Path, typer.Option(help="Folder to write to.")] = Path("docs")) -> None:
    """Write the event catalogue as JSON Schema and AsyncAPI, generated from the contracts."""
    from shared.catalogue import asyncapi_document, json_schema_document

    out.mkdir(parents=True, exist_ok=True)
    (out / "events.schema.json").write_text(json.dumps(json_schema_document(), indent=2, sort_keys=True) + "\n")
    (out / "asyncapi.json").write_text(json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n")
    typer.echo(f"wrote {out / 'events.schema.json'} and {out / 'asyncapi.json'}")


if __name__ == "__main__":
    app()
