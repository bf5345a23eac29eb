"""What the API tests send and read, written once: credentials, a person and their activities
as the App API shows them, the ingestion log, the error shape every door answers with, and the
tables' rows where no API shows what was (or was not) written (tests/api/stored.py counts them
per table). The API readings take any client with `get` (TestClient in process, httpx against a
real server)."""

from __future__ import annotations

import base64
from typing import Any

import sqlalchemy as sa

from roster.services.system import System


def basic(user: str, password: str = "") -> dict[str, str]:
    """HTTP Basic headers: the Track API's site id and key, or Segment's write key alone."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def customer(client: Any, app_key: dict[str, str], ref: str, id_type: str = "id") -> Any:
    """The person as GET /v1/customers/{ref}/attributes shows them; None when nobody is (404)."""
    answer = client.get(f"/v1/customers/{ref}/attributes?id_type={id_type}", headers=app_key)
    assert answer.status_code in (200, 404), answer.text
    return answer.json()["customer"] if answer.status_code == 200 else None


def activities(
    client: Any, app_key: dict[str, str], ref: str, type_: str | None = None
) -> list[dict[str, Any]]:
    """A person's activities, newest first (of one type, when given)."""
    query = f"&type={type_}" if type_ else ""
    answer = client.get(f"/v1/customers/{ref}/activities?limit=1000{query}", headers=app_key)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["activities"]
    return found


def ingestion_log(client: Any, app_key: dict[str, str]) -> list[dict[str, Any]]:
    """Every entry of the workspace's ingestion log."""
    answer = client.get("/api/ingestion-log", params={"limit": 1000}, headers=app_key)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def assert_error(
    answer: Any,
    status: int,
    says: str | None = None,
    meta: str | None = None,
    label: Any = None,
) -> dict[str, Any]:
    """A 4xx as every door answers it: JSON with "code" and "message" (docs/api.md §1). `meta` is
    the Customer.io shape to expect beside them: "errors" (Track v1 invalid input: a list
    holding the message) or "error" (the rest of Track v1, the App API)."""
    assert answer.status_code == status, (label, answer.text)
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if meta == "errors":
        assert body["meta"] == {"errors": [body["message"]]}, body
    elif meta == "error":
        assert body["meta"] == {"error": body["message"]}, body
    if says is not None:
        assert says in body["message"], body
    return body


def rows(system: System, sql: str, **params: Any) -> list[Any]:
    """Rows read straight from the tables, for what no API shows (nothing written, anonymous
    events, workspace activity)."""
    with system.database.reader.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def entity(client: Any, track: dict[str, str], op: dict[str, Any], status: int = 200) -> Any:
    """One Track API v2 operation to /api/v2/entity, answered `status` (200: with `{}`)."""
    answer = client.post("/api/v2/entity", json=op, headers=track)
    assert answer.status_code == status, answer.text
    if status == 200:
        assert answer.json() == {}
    return answer


def v2_person(action: str, ref: str = "v2", **rest: Any) -> dict[str, Any]:
    """A Track API v2 person operation naming the person by id."""
    return {"type": "person", "action": action, "identifiers": {"id": ref}, **rest}
