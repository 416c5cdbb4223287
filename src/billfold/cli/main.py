"""`billfold serve | demo | clients create | link | keys generate`."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Annotated, Any

import typer
from rich.console import Console

from billfold.settings import Settings

app = typer.Typer(help="Billfold: financial and billing data aggregation.", no_args_is_help=True)
clients_app = typer.Typer(
    help="Manage client applications and their API keys.", no_args_is_help=True
)
keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")
console = Console()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    demo: Annotated[bool, typer.Option(help="Create a demo client with sandbox data")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="0: only enqueue jobs (run `billfold worker` elsewhere); 1: run them too"
        ),
    ] = None,
) -> None:
    """Run the API server (SQLite in ./var unless BILLFOLD_DATABASE_URL says otherwise)."""
    import uvicorn

    from billfold.api.app import create_app
    from billfold.container import Container
    from billfold.demo import ensure_demo

    overrides: dict[str, object] = {
        k: v for k, v in {"host": host, "port": port}.items() if v is not None
    }
    if workers is not None:
        if workers not in (0, 1):
            raise typer.BadParameter("--workers takes 0 or 1; start more with `billfold worker`")
        overrides["run_workers"] = workers == 1
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if not settings.run_workers and settings.job_backend == "embedded":
        raise typer.BadParameter(
            "--workers 0 needs BILLFOLD_JOB_BACKEND=procrastinate (on PostgreSQL)"
        )
    container = Container(settings)
    container.prepare()
    url = f"http://{settings.host}:{settings.port}"
    if demo:
        setup = ensure_demo(container.ctx, settings.data_dir / "demo-api-key")
        console.print(f"[bold green]Billfold[/] is starting on [bold]{url}[/]")
        console.print(f"Demo API key: [bold]{setup.api_key}[/]")
        console.print(f"API docs:     {url}/docs")
        console.print(f"Connect demo: {url}/connect/demo  (Billfold Connect, the widget)")
        console.print("Try:", soft_wrap=True)
        console.print(
            f'  curl -H "Authorization: Bearer {setup.api_key}" '
            f'"{url}/v1/institutions?query=sandbox"',
            soft_wrap=True,
            highlight=False,
        )
        console.print(
            f'  curl -H "Authorization: Bearer {setup.api_key}" "{url}/v1/accounts"',
            soft_wrap=True,
            highlight=False,
        )
        console.print(
            f"Link interactively: billfold link --url {url} --api-key {setup.api_key}",
            soft_wrap=True,
            highlight=False,
        )
    asgi = create_app(container=container)
    if demo:
        from billfold.api.connect.demo import enable_demo

        enable_demo(asgi, client_id=setup.client_id, user_id=setup.user_id)
    uvicorn.run(
        asgi,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
    )


@app.command()
def worker() -> None:
    """Run jobs from the PostgreSQL queue (BILLFOLD_JOB_BACKEND=procrastinate) until stopped."""
    import asyncio
    import signal

    from billfold.container import Container

    settings = Settings(run_workers=True)
    if settings.job_backend != "procrastinate":
        raise typer.BadParameter("billfold worker needs BILLFOLD_JOB_BACKEND=procrastinate")

    async def run() -> None:
        container = Container(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await container.start()
        console.print("[bold green]Billfold worker[/] running; Ctrl-C stops it.")
        try:
            await stop.wait()
        finally:
            await container.stop()

    asyncio.run(run())


@app.command()
def demo() -> None:
    """Create (or reuse) the demo client and data, and print its API key."""
    from billfold.container import Container
    from billfold.demo import ensure_demo

    settings = Settings()
    container = Container(settings)
    container.prepare()
    setup = ensure_demo(container.ctx, settings.data_dir / "demo-api-key")
    console.print(f"Demo client {setup.client_id}\nAPI key: [bold]{setup.api_key}[/]")
    console.print("Links run when `billfold serve` starts.")


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="The application's name")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option("--redirect-uri", help="OAuth redirect URI (Sophtron dialect; repeatable)"),
    ] = None,
) -> None:
    """Create a client application and print its API key (shown only once)."""
    from billfold.container import Container
    from billfold.domain.errors import BillfoldError
    from billfold.services.clients import create_client
    from billfold.services.sophtron import check_redirect_uris

    container = Container(Settings())
    container.prepare()
    try:
        check_redirect_uris(redirect_uri or [])
        issued = create_client(ctx=container.ctx, name=name)
    except BillfoldError as exc:
        raise typer.BadParameter(exc.message) from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    printed: dict[str, Any] = {
        "client_id": issued.client.id,
        "name": issued.client.name,
        "api_key": issued.api_key,
    }
    # Each dialect adds the credentials its own clients need, under its own key.
    # (sophtron: {user_id, access_key}, oauth: {...}; synapse: {client_id, client_secret})
    from billfold.services.synapse_clients import issue_synapse_credentials

    synapse = issue_synapse_credentials(ctx=container.ctx, client_id=issued.client.id)
    printed["synapse"] = {"client_id": synapse.client_id, "client_secret": synapse.client_secret}
    from billfold.services import sophtron as sophtron_dialect

    developer = sophtron_dialect.issue_credentials(ctx=container.ctx, client_id=issued.client.id)
    printed["sophtron"] = {"user_id": developer.user_id, "access_key": developer.access_key}
    if redirect_uri:
        try:
            oauth = sophtron_dialect.register_oauth_client(
                ctx=container.ctx, client_id=issued.client.id, redirect_uris=redirect_uri
            )
        except BillfoldError as exc:
            raise typer.BadParameter(exc.message) from exc
        printed["oauth"] = {
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "redirect_uris": list(oauth.redirect_uris),
        }
    if as_json:
        typer.echo(json.dumps(printed))
        return
    console.print(f"Client [bold]{issued.client.name}[/] ({issued.client.id})")
    console.print(f"API key (shown once): [bold]{issued.api_key}[/]")
    for section, values in printed.items():
        if isinstance(values, dict):
            console.print(f"{section}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random key for BILLFOLD_SECRET_KEY."""
    typer.echo(base64.b64encode(secrets.token_bytes(32)).decode())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every stored secret under the first key of BILLFOLD_SECRET_KEY."""
    from billfold.container import Container

    container = Container(Settings())
    container.prepare()
    with container.store.write() as unit:
        count = unit.connections.rewrap_all(container.store.keys)
        accounts = unit.accounts.rewrap_all(container.store.keys)
    from billfold.services.sophtron import rewrap_secrets as rewrap_sophtron

    rewrap_sophtron(ctx=container.ctx)
    from billfold.services.synapse_clients import rewrap_synapse_secrets

    rewrap_synapse_secrets(ctx=container.ctx)
    console.print(
        f"Re-wrapped the secrets of {count} connection(s) and {accounts} account(s) "
        "under key "
        f"{container.store.keys.active_key_id}."
    )


def _register_link() -> None:
    from billfold.cli.link import link

    app.command(name="link")(link)


_register_link()


@app.command()
def sandbox() -> None:
    """List the sandbox institutions and their test logins."""
    from rich.table import Table

    from billfold.connectors.sandbox import SANDBOX_GUIDE

    table = Table("Institution", "Username", "Password", "What happens", show_lines=False)
    for row in SANDBOX_GUIDE:
        table.add_row(row.institution, row.username, row.password, row.outcome)
    console.print(table)
