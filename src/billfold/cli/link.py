"""`billfold link`: link a sandbox (or any) institution from the terminal, over the API.

It talks to a running server like any client app would, and asks each
challenge at the prompt; a captcha image is saved to a file whose path is printed.
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.prompt import Prompt
from rich.table import Table

console = Console()


class ApiProblem(Exception):
    pass


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ApiProblem(f"cannot reach Billfold at {client.base_url}: {exc}") from exc
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            raise ApiProblem(f"{error['message']} ({error['code']})")
        except (ValueError, KeyError, TypeError):
            raise ApiProblem(f"HTTP {response.status_code}") from None
    return response.json() if response.content else None


def _pick_institution(client: httpx.Client, query: str | None) -> dict[str, Any]:
    while True:
        query = query or Prompt.ask("Institution name (e.g. 'Sophtron Bank', 'sandbox')")
        found = _call(client, "GET", "/v1/institutions", params={"query": query, "limit": 20})
        items: list[dict[str, Any]] = found["data"]
        exact = [i for i in items if i["name"].casefold() == query.casefold()]
        if len(exact) == 1:
            return exact[0]
        if not items:
            console.print(f"[yellow]No institution matches {query!r}.[/]")
            query = None
            continue
        table = Table("#", "Name", "Kind")
        for number, inst in enumerate(items, 1):
            table.add_row(str(number), inst["name"], inst["kind"])
        console.print(table)
        choice = Prompt.ask("Pick a number", choices=[str(n) for n in range(1, len(items) + 1)])
        return items[int(choice) - 1]


def _secret(label: str) -> str:
    # getpass only hides input on a terminal; piped input (scripts, tests) is read plainly.
    return Prompt.ask(label, password=sys.stdin.isatty())


def _ask(challenge: dict[str, Any]) -> list[str]:
    kind = challenge["kind"]
    console.print(f"\n[bold]{challenge['prompt']}[/]")
    if challenge.get("retry_note"):
        console.print(f"[yellow]{challenge['retry_note']}[/]")
    if kind == "questions":
        return [Prompt.ask(q) for q in challenge["questions"]]
    if kind in ("choice", "account_select"):
        options = challenge["options"]
        for number, option in enumerate(options, 1):
            console.print(f"  {number}. {option['label']}")
        picked = Prompt.ask("Pick a number", choices=[str(n) for n in range(1, len(options) + 1)])
        return [options[int(picked) - 1]["id"]]
    if kind == "code":
        return [_secret(challenge.get("code_label") or "Code")]
    if kind == "approve":
        if challenge.get("approve_code"):
            console.print(f"Code shown on your device: [bold]{challenge['approve_code']}[/]")
        Prompt.ask("Approve on your device, then press Enter", default="", show_default=False)
        return ["done"]
    if kind == "captcha":
        image = challenge["image"]
        path = Path(tempfile.mkstemp(prefix="billfold-captcha-", suffix=".png")[1])
        path.write_bytes(base64.b64decode(image["base64"]))
        console.print(f"Captcha image saved to [bold]{path}[/]")
        return [Prompt.ask("Characters in the image")]
    return [Prompt.ask("Answer")]


def link(
    url: Annotated[
        str, typer.Option(envvar="BILLFOLD_URL", help="Billfold server")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str,
        typer.Option(
            envvar="BILLFOLD_API_KEY", help="Client API key", prompt=True, hide_input=True
        ),
    ] = "",
    institution: Annotated[str | None, typer.Option(help="Institution name")] = None,
    user: Annotated[str | None, typer.Option(help="Existing user id (default: a new user)")] = None,
) -> None:
    """Link an institution interactively and list the accounts found."""
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        try:
            _run(client, institution, user)
        except ApiProblem as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None


def _run(client: httpx.Client, institution_name: str | None, user_id: str | None) -> None:
    inst = _pick_institution(client, institution_name)
    if user_id is None:
        user_id = _call(client, "POST", "/v1/users", json={})["id"]
    credentials = {}
    for field in inst["login_fields"]:
        ask = _secret if field["secret"] else Prompt.ask
        credentials[field["key"]] = ask(field["label"])
    started = _call(
        client,
        "POST",
        "/v1/connections",
        json={"user_id": user_id, "institution_id": inst["id"], "credentials": credentials},
    )
    job = started["job"]
    with console.status("Linking...") as status:
        while True:
            job = _call(client, "GET", f"/v1/jobs/{job['id']}")
            if job["status"] == "waiting_for_answer":
                status.stop()
                values = _ask(job["challenge"])
                try:
                    job = _call(
                        client,
                        "POST",
                        f"/v1/jobs/{job['id']}/answer",
                        json={"challenge_id": job["challenge"]["id"], "answers": values},
                    )
                except ApiProblem as exc:
                    console.print(f"[yellow]{exc}[/]")
                status.start()
                continue
            if job["status"] in ("succeeded", "failed", "expired", "cancelled"):
                break
            time.sleep(0.3)
    if job["status"] != "succeeded":
        error = job.get("error") or {}
        raise ApiProblem(
            f"Link {job['status']}: {error.get('message', '')} ({error.get('code', job['status'])})"
        )
    connection_id = started["connection"]["id"]
    accounts = _call(client, "GET", "/v1/accounts", params={"connection_id": connection_id})
    table = Table("Account", "Type", "Mask", "Balance", "Due", title=f"Linked {inst['name']}")
    for account in accounts["data"]:
        due = account["bill"]["amount_due"]
        due_text = f"{due} by {account['bill']['due_date']}" if due else ""
        table.add_row(
            account["name"],
            account["type"],
            account["mask"],
            f"{account['balances']['current']} {account['currency']}",
            due_text,
        )
    console.print(table)
    console.print(f"connection_id={connection_id} user_id={user_id}")
