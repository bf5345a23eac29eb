"""What must hold around each load: before it, one call of each kind answers 2xx; after it, people
read back through the App API as written, and the store passes the identity checks every test
uses (roster.testing.integrity) plus those of the bench's own traffic (every person is a user-<n>
with the email user-<n>@example.com, and every event has a person)."""

from __future__ import annotations

from typing import Any

import httpx

from bench import EMAIL_DOMAIN, PLANS, BenchError, console
from bench.load import SEGMENT, BatchApi
from bench.servers import Server
from roster.testing.integrity import IDENTITY_CHECKS, Check, count_in_database

TRAFFIC_CHECKS: tuple[Check, ...] = (
    Check(
        "person_without_id",
        "a person without an id (every message names a user id)",
        "select count(*) from people where workspace_id = :w and id is null",
    ),
    Check(
        "id_not_of_the_traffic",
        "an id the traffic never sent",
        "select count(*) from identifiers where workspace_id = :w and kind = 'id' "
        "and value not like 'user-%'",
    ),
    Check(
        "email_row_on_another_person",
        "an email identifier not on the person of its user id",
        "select count(*) from identifiers e left join identifiers i "
        "on i.workspace_id = e.workspace_id and i.kind = 'id' "
        f"and i.value = substr(e.value, 1, length(e.value) - {len(EMAIL_DOMAIN)}) "
        "where e.workspace_id = :w and e.kind = 'email' "
        "and (i.person_pk is null or i.person_pk <> e.person_pk)",
    ),
    Check(
        "event_without_a_person",
        "an event stored without a person (every track names a user id)",
        "select count(*) from events where workspace_id = :w and person_pk is null",
    ),
    Check(
        "ingestion_log_entries",
        "a message dropped or noted in the ingestion log",
        "select count(*) from ingestion_log where workspace_id = :w",
    ),
)

STORE_CHECKS = IDENTITY_CHECKS + TRAFFIC_CHECKS
CHECK_MEANINGS = {check.name: check.meaning for check in STORE_CHECKS}

FIGURES: tuple[Check, ...] = (
    Check("people", "people", "select count(*) from people where workspace_id = :w"),
    Check(
        "id_rows",
        "id identifiers",
        "select count(*) from identifiers where workspace_id = :w and kind = 'id'",
    ),
    Check(
        "email_rows",
        "email identifiers",
        "select count(*) from identifiers where workspace_id = :w and kind = 'email'",
    ),
    Check("events", "events", "select count(*) from events where workspace_id = :w"),
)


def check_store(
    database_url: str, workspace_id: int, tracks_low: int, tracks_high: int
) -> dict[str, Any]:
    """Every violation count (each must be 0), the store's figures, and whether the events
    stored are the track messages acknowledged, give or take those wrk sent but saw no answer
    to before it stopped (they may or may not have been stored)."""
    violations = count_in_database(database_url, workspace_id, STORE_CHECKS)
    figures = count_in_database(database_url, workspace_id, FIGURES)
    events_ok = tracks_low <= figures["events"] <= tracks_high
    return {
        **figures,
        "tracks_acknowledged": tracks_low,
        "tracks_sent": tracks_high,
        "events_match_acknowledged": events_ok,
        "violations": violations,
        "violation_total": sum(violations.values()) + (0 if events_ok else 1),
        "pass": events_ok and not any(violations.values()),
    }


def tracks_range(result: dict[str, Any], before: int) -> tuple[int, int]:
    """(acknowledged, sent) track messages of the warm-up, the measured run and the checks."""
    runs = [result] + ([result["warmup"]] if result.get("warmup") else [])
    low = before + sum(run["tracks_acknowledged"] for run in runs)
    high = before + sum(run["tracks_built"] for run in runs)
    return low, high


def report_store(name: str, result: dict[str, Any]) -> None:
    store = result["store"]
    read = result.get("read_back")
    bad = {key: value for key, value in store["violations"].items() if value}
    console.print(
        f"  {name} store: {store['people']:,} people, {store['events']:,} events for "
        f"{store['tracks_acknowledged']:,} track messages acknowledged "
        f"({store['tracks_sent']:,} sent); "
        + ("[green]consistent[/]" if store["pass"] else f"[bold red]violations {bad}[/]")
        + (f"; App API read-back {read['consistent']}/{read['found']}" if read is not None else "")
    )


def track_calls_answer(server: Server) -> None:
    """Before the Track load: both endpoints answer 2xx once."""
    body = {"email": "user-check@example.com", "plan": "pro", "seen": 0}
    with server.roster.track_http() as http:
        for path in ("/bench/noop/user-check", "/api/v1/customers/user-check"):
            answer = http.put(path, json=body)
            if not answer.is_success:
                raise BenchError(
                    f"PUT {path} answered {answer.status_code} before the benchmark: "
                    f"{answer.text[:300]}\n"
                    "Is ROSTER_NOOP_ENDPOINT honoured, and do the workspace's keys work?"
                )


def track_puts_stored(server: Server) -> dict[str, Any]:
    """After the Track load: a customer PUT reads back through the App API."""
    try:
        with server.roster.app_api() as app:
            person = app.customer("user-1")
    except (AssertionError, httpx.HTTPError) as error:
        person, problem = None, str(error)
    else:
        problem = "no such person" if person is None else ""
    attributes = (person or {}).get("attributes", {})
    stored = attributes.get("plan") == "pro" and "seen" in attributes
    if not stored:
        console.print(
            "[yellow]warning:[/] user-1 does not read back as written "
            f"(GET /v1/customers/user-1/attributes: {problem or str(person)[:200]})"
        )
    return {"customer_put_read_back": stored}


# One identify and one track of user-0, as bench/batch.lua writes them in each API's words.
CHECK_BATCHES: dict[str, list[dict[str, Any]]] = {
    "segment": [
        {
            "type": "identify",
            "userId": "user-0",
            "messageId": "check-identify",
            "traits": {"email": "user-0@example.com", "plan": "free", "seen": 0},
        },
        {
            "type": "track",
            "userId": "user-0",
            "event": "Order Completed",
            "messageId": "check-track",
            "properties": {"revenue": 9.99, "sku": "sku-1", "n": 0},
        },
    ],
    "v2": [
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": "user-0"},
            "attributes": {"email": "user-0@example.com", "plan": "free", "seen": 0},
        },
        {
            "type": "person",
            "action": "event",
            "identifiers": {"id": "user-0"},
            "name": "Order Completed",
            "id": "check-track",
            "attributes": {"revenue": 9.99, "sku": "sku-1", "n": 0},
        },
    ],
}
# What each API answers when every message of a batch was taken.
TAKEN = {"segment": {"success": True}, "v2": {}}


def batch_answers(server: Server, api: BatchApi = SEGMENT) -> int:
    """One small batch before the load: the credentials work and a batch is acknowledged whole.
    The number of track messages it stored."""
    client = server.segment_http() if api.bearer else server.roster.track_http()
    with client as http:
        answer = http.post(api.path, json={"batch": CHECK_BATCHES[api.key]})
    if answer.status_code != 200 or answer.json() != TAKEN[api.key]:
        raise BenchError(
            f"POST {api.path} on {server.name} answered {answer.status_code} before the "
            f"benchmark: {answer.text[:300]}"
        )
    return 1


def read_back(server: Server, users: int, sample: int = 25) -> dict[str, Any]:
    """Through the App API: some users (spread over the set) read back as the traffic wrote
    them: their id, their own email, a plan from the traffic's three, a `seen` counter."""
    found = consistent = with_email = 0
    problems: list[str] = []
    picked = range(0, users, max(1, users // sample))
    with server.roster.app_api() as app:
        for n in picked:
            try:
                person = app.customer(f"user-{n}")
            except (AssertionError, httpx.HTTPError) as error:
                problems.append(f"user-{n}: {str(error)[:160]}")
                continue
            if person is None:  # never drawn, or only in requests still unanswered at the end
                continue
            found += 1
            attributes = person.get("attributes", {})
            email = attributes.get("email")
            good = attributes.get("id") == f"user-{n}"
            if email is not None:
                with_email += 1
                good = (
                    good
                    and email == f"user-{n}{EMAIL_DOMAIN}"
                    and attributes.get("plan") in PLANS
                    and str(attributes.get("seen", "")).isdigit()
                )
            if good:
                consistent += 1
            else:
                problems.append(f"user-{n}: {str(attributes)[:160]}")
    return {
        "checked": len(picked),
        "found": found,
        "with_email": with_email,
        "consistent": consistent,
        "pass": found > 0 and consistent == found and not problems,
        "problems": problems[:5],
    }
