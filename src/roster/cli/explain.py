"""`roster explain --door D --method M --path P [--body JSON|@FILE]` (docs/api.md §6): what a
call would do, without writing anything; the same rehearsal as POST /api/explain (§5)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from roster.api.explain import explain_call as rehearse_call
from roster.api.explain import read_call
from roster.app import create_app
from roster.cli import DatabaseUrl, _fail, _open, _settings, out
from roster.cli.workspace import NoWorkspace, WorkspaceName, choose
from roster.domain.errors import RosterError


def _text(raw: str, option: str) -> str:
    """An option's value, or the file it names as @FILE."""
    if not raw.startswith("@"):
        return raw
    path = Path(raw[1:])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"{option} {raw}: cannot read the file ({error})")
        raise


def _spec(
    door: str,
    method: str,
    path: str,
    body: str | None,
    raw_body: str | None,
    headers: list[str],
) -> dict[str, Any]:
    spec: dict[str, Any] = {"door": door, "method": method, "path": path}
    if body is not None:
        text = _text(body, "--body")
        try:
            spec["body"] = json.loads(text)
        except ValueError as error:
            _fail(f"--body is not JSON ({error})", "send it as it is with --raw-body instead")
    if raw_body is not None:
        spec["raw_body"] = _text(raw_body, "--raw-body")
    named: dict[str, str] = {}
    for header in headers:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            _fail(f"--header '{header}' is not NAME: VALUE")
        named[name.strip()] = value.strip()
    spec["headers"] = named
    return spec


def _person(shown: dict[str, Any] | None) -> str:
    if shown is None:
        return "nobody"
    return "a new person" if shown["new"] else f"cio_{shown['cio_id']}"


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _say(line: str = "") -> None:
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def show(report: dict[str, Any]) -> None:
    """The report as sentences, in the order a reader asks: what answer, who, why, what."""
    call, answer = report["call"], report["answer"]
    _say(
        f"{call['method']} {call['path']} ({report['door']}) would be answered "
        f"{answer['status']} {_value(answer['body'])}"
    )
    _say("Nothing was written: this is what the call would do.")
    for number, message in enumerate(report["messages"], start=1):
        named = message["type"] or "message"
        if message.get("message_id"):
            named += f" {message['message_id']}"
        _say()
        if not message["applied"]:
            _say(f"{number}. {named}: not applied: {message.get('reason', 'refused')}")
            if message.get("person"):
                _say(f"   about {_person(message['person'])}")
        else:
            _say(f"{number}. {named}: {_person(message['person'])}")
        # A refused message keeps the rules that led to its refusal (a strict-mode 409's I5.2).
        for rule in message.get("rules", []):
            _say(f"   {rule['rule']:<5} {rule['why']}")
        for note in message.get("notes", []):
            _say(f"   note: {note}")
    sections = (
        (
            "Changes",
            [
                f"{_person(c['person'])}: {c['attribute']} {_value(c['from'])} -> {_value(c['to'])}"
                for c in report["changes"]
            ],
        ),
        (
            "Refused",
            [
                f"{_person(r['person'])}: {r['attribute']} {_value(r['value'])}: {r['reason']}"
                for r in report["refused"]
            ],
        ),
        (
            "Activities",
            [
                f"{_person(a['person'])}: {a['type']}" + (f" {a['name']}" if a["name"] else "")
                for a in report["activities"]
            ],
        ),
        (
            "Events",
            [f"{_person(e['person'])}: {e['type']} {e['name']}" for e in report["events"]],
        ),
        ("Ingestion log", [entry["reason"] for entry in report["ingestion_log"]]),
        (
            "Suppression list",
            [f"{entry['change']} {entry['hash']}" for entry in report["suppressions"]],
        ),
    )
    for title, lines in sections:
        if lines:
            _say()
            _say(f"{title}:")
            for line in lines:
                _say(f"  {line}")


def explain(
    door: Annotated[
        str,
        typer.Option(
            help="track_v1, track_v2, segment, webhook (Segment's Webhooks destination: no "
            "signature needed) or app (the App API: merge, unmerge, delete by list, sends, "
            "exports, unsuppress)."
        ),
    ],
    method: Annotated[str, typer.Option(help="The call's HTTP method.")],
    path: Annotated[
        str,
        typer.Option(
            help="The call's path as sent, e.g. /api/v1/customers/7 or /v1/merge_customers."
        ),
    ],
    body: Annotated[
        str | None, typer.Option(help="The call's JSON body, or @FILE holding it.")
    ] = None,
    raw_body: Annotated[
        str | None, typer.Option("--raw-body", help="A body sent as it is (or @FILE).")
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", help="A header of the call, NAME: VALUE (repeatable)."),
    ] = None,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer.")] = False,
) -> None:
    """What a call would do (the person, the rule that chose them, the changes, the log), with
    nothing written (docs/api.md §5). A refused call still shows the rules that led there."""
    spec = _spec(door, method, path, body, raw_body, header or [])
    settings = _settings(database_url)
    system = _open(settings)
    try:
        workspace_id, _ = choose(system, workspace)
        call = read_call(spec)
        app = create_app(settings, system=system)
        report = asyncio.run(rehearse_call(app, system, workspace_id, call))
    except NoWorkspace as error:
        _fail(str(error))
        raise
    except RosterError as error:
        _fail(error.message)
        raise
    finally:
        system.close()
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    show(report)
