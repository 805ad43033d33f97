"""The `buddy` command: serve one service, run the whole system, verify and export."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from shared.settings import SERVICES, Settings

app = typer.Typer(help="Buddywerking: case logging and anonymised reporting.", no_args_is_help=True)
audit = typer.Typer(help="Audit the event history.", no_args_is_help=True)
docs = typer.Typer(help="Generated documentation.", no_args_is_help=True)
keys = typer.Typer(help="Key management.", no_args_is_help=True)
reporting = typer.Typer(help="The reporting service's projections.", no_args_is_help=True)
app.add_typer(reporting, name="reporting")
app.add_typer(audit, name="audit")
app.add_typer(docs, name="docs")
app.add_typer(keys, name="keys")

Service = StrEnum("Service", {name: name for name in SERVICES})  # type: ignore[misc]
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
    uvicorn.run(build_app(service.value, settings), host=settings.host, port=settings.port_of(service.value),
                log_config=None, access_log=False, timeout_graceful_shutdown=10)


@app.command()
def run(
    demo: Annotated[bool, typer.Option(help="Load a small demo data set through the public APIs.")] = True,
) -> None:
    """Start the whole system on this machine: Redis, the four services, SQLite under the data folder."""
    from shared.supervisor import run_system

    raise typer.Exit(run_system(Settings(), demo=demo))


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
            typer.echo(f"{name}: store ok — {result.checked} events, head {result.head_position}")
        else:
            failed = True
            typer.echo(f"{name}: store BROKEN at position {result.first_broken_position} "
                       f"(event {result.first_broken_event_id}): {result.problems[0]}", err=True)
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


@audit.command("reproduce")
def reproduce(report_id: Annotated[str, typer.Argument(help="The id of a published report.")]) -> None:
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
            feed = _feed(settings)
            try:
                await rebuild(engine, feed, watermark=report["computed_from"])
            finally:
                await feed.aclose()

        asyncio.run(run())
        with reader(engine).connect() as conn:
            digest = records.content_hash(compute(conn, report["kind"], report["parameters"]))
        engine.dispose()
    if digest == report["content_hash"]:
        typer.echo(f"{report_id}: reproduced — hash {digest} from {report['computed_from']}")
        return
    typer.echo(f"{report_id}: NOT reproduced — stored {report['content_hash']}, replay gives {digest}", err=True)
    raise typer.Exit(1)


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
