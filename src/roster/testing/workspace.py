"""The `roster` fixture of the pytest plugin: one empty workspace of a running ephemeral roster,
ready clients for it, and its state as plain Python objects (docs/testing.md).

    def test_signup(roster):
        signup("ada-1", "ada@example.com", cio=roster.customerio())
        assert roster.person("ada-1").email == "ada@example.com"
        assert [e.name for e in roster.events("ada-1")] == ["signed_up"]

State is read through the App API and roster's own API (docs/api.md §4, §5), as any client would
read it."""

from __future__ import annotations

import pprint
import ssl
from typing import TYPE_CHECKING, Any

from roster.api.explain import DOORS, door_serving
from roster.testing.server import AppApi, WorkspaceKeys
from roster.testing.state import (
    Activity,
    Event,
    Explanation,
    LogEntry,
    OutboxMessage,
    Person,
)

if TYPE_CHECKING:
    from customerio import APIClient, CustomerIO  # type: ignore[import-untyped]
    from segment.analytics import Client as SegmentClient  # type: ignore[import-untyped]

    from roster.testing.ephemeral import EphemeralRoster


EVERYONE = {"attribute": {"field": "cio_id", "operator": "exists"}}


class RosterWorkspace(WorkspaceKeys):
    """A workspace of its own for one test: nothing another test sends is visible here."""

    def __init__(self, server: EphemeralRoster, credentials: dict[str, Any]) -> None:
        self.server = server
        self.credentials = credentials
        # Reads go to the plain-HTTP listener: no TLS handshake per test.
        self.app_api = AppApi(server.http_url, self.app_api_key, server.ssl_context())
        self._closing: list[Any] = [self.app_api]

    # -- where and who ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """HTTPS, with the certificate at `ca_bundle` (customerio clients speak HTTPS only)."""
        return self.server.base_url

    @property
    def http_url(self) -> str:
        """The same server over plain HTTP (segment-analytics-python, curl, your own code)."""
        return self.server.http_url

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The HTTPS port (customerio-python and customerio-node take the port separately)."""
        return self.server.port

    @property
    def ca_bundle(self) -> str:
        """The certificate to trust (e.g. `REQUESTS_CA_BUNDLE`, node's `ca`)."""
        assert self.server.ca_bundle is not None
        return str(self.server.ca_bundle)

    def ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts the certificate (httpx's `verify=`), made once."""
        return self.server.ssl_context()

    # -- ready clients ----------------------------------------------------------------------------

    def customerio(self, **options: Any) -> CustomerIO:
        """customerio-python's Track client for this workspace, trusting the certificate
        without touching the environment. `options` go to `CustomerIO(...)` (retries default to 0,
        so that a refusal fails the test at once)."""
        from customerio import CustomerIO

        options.setdefault("retries", 0)
        client: CustomerIO = self._trusting(CustomerIO)(
            self.site_id, self.track_api_key, host=self.host, port=self.port, **options
        )
        self._closing.append(client)
        return client

    def customerio_api(self, **options: Any) -> APIClient:
        """customerio-python's App API client (`APIClient`: `send_email`, `send_push`,
        `send_sms`…, which roster records in its outbox instead of sending), trusting the
        certificate like `customerio()`. `options` go to `APIClient(...)`."""
        from customerio import APIClient

        options.setdefault("retries", 0)
        client: APIClient = self._trusting(APIClient)(
            self.app_api_key, url=self.base_url, **options
        )
        self._closing.append(client)
        return client

    def _trusting(self, client_class: type[Any]) -> type[Any]:
        """customerio-python's client class, with sessions that trust this roster's certificate
        and nothing of the environment."""
        ca_bundle = self.ca_bundle

        class Trusting(client_class):  # type: ignore[misc]
            def _build_session(self) -> Any:
                session = super()._build_session()
                session.verify = ca_bundle
                # REQUESTS_CA_BUNDLE, when set, would win over `verify`; a proxy has no
                # business between a test and a local server either.
                session.trust_env = False
                return session

        return Trusting

    def segment(self, **options: Any) -> SegmentClient:
        """segment-analytics-python's client for this workspace: every call is sent before it
        returns (`sync_mode`), so what a test sends is stored when it asserts."""
        from segment.analytics import Client

        options.setdefault("sync_mode", True)
        options.setdefault("max_retries", 0)
        client = Client(self.write_key, host=self.http_url, **options)
        self._closing.append(_Shutdown(client))
        return client

    def close(self) -> None:
        for closable in reversed(self._closing):
            closable.close()
        self._closing = []

    # -- settings ---------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """`GET /api/workspace/settings`."""
        return self.app_api._ok(self.app_api.http.get("/api/workspace/settings"))

    def configure(self, **settings: Any) -> dict[str, Any]:
        """`PATCH /api/workspace/settings` (e.g. `identifier_mode="id_only"`): the new settings.
        A refused value raises ValueError with roster's reason."""
        response = self.app_api.http.patch("/api/workspace/settings", json=settings)
        if response.status_code != 200:
            raise ValueError(f"roster refused the settings {settings!r}: {response.text}")
        changed: dict[str, Any] = response.json()
        return changed

    # -- state ------------------------------------------------------------------------------------

    def find_person(self, ref: str, id_type: str = "id") -> Person | None:
        """The person `ref` names (an id, or an email or cio_id with `id_type`), or None."""
        found = self.app_api.customer(ref, id_type)
        return None if found is None else Person.from_answer(found)

    def person(self, ref: str, id_type: str = "id") -> Person:
        """The person `ref` names; an AssertionError that shows what roster set aside if there
        is none."""
        found = self.find_person(ref, id_type)
        if found is None:
            log = self.ingestion_log()
            raise AssertionError(
                f"no person with {id_type} {ref!r} in this test's workspace.\n"
                f"Calls roster accepted but did not use (ingestion log): "
                f"{pprint.pformat(log) if log else 'none'}"
            )
        return found

    def people(self, filter: dict[str, Any] | None = None) -> list[Person]:
        """The workspace's people matching `filter`, oldest first; everyone without one. The
        filter is the App API's JSON (docs/api.md §4), e.g. people with an email but no id:

            {"and": [{"attribute": {"field": "email", "operator": "exists"}},
                     {"not": {"attribute": {"field": "id", "operator": "exists"}}}]}

        A malformed filter raises ValueError naming where, before anything is sent."""
        from roster.domain.errors import InvalidInput
        from roster.domain.filters import parse

        wire = EVERYONE if filter is None else filter
        try:
            parse(wire)  # the one parser roster uses: the same refusal, without a round trip
        except InvalidInput as error:
            raise ValueError(error.message) from None
        cio_ids: list[str] = []
        start = ""
        while True:
            params: dict[str, Any] = {"limit": 1000, "start": start}
            response = self.app_api.http.post("/v1/customers", params=params, json={"filter": wire})
            page = self.app_api._ok(response)
            cio_ids.extend(entry["cio_id"] for entry in page["identifiers"])
            start = page["next"]
            if not start:
                break
        people: list[Person] = []
        for at in range(0, len(cio_ids), 100):  # the attributes call takes 100 references
            response = self.app_api.http.post(
                "/v1/customers/attributes",
                params={"id_type": "cio_id"},
                json={"ids": cio_ids[at : at + 100]},
            )
            found = self.app_api._ok(response)["customers"]
            people.extend(Person.from_answer(customer) for customer in found)
        return people

    def activities(
        self, ref: str, id_type: str = "id", type: str | None = None, deleted: bool = False
    ) -> list[Activity]:
        """The person's activity log, oldest first (the App API answers newest first)."""
        answers = self.app_api.activities(ref, id_type, type=type, deleted=deleted)
        return [Activity.from_answer(answer) for answer in reversed(answers)]

    def events(self, ref: str, id_type: str = "id") -> list[Event]:
        """The person's tracked events, oldest first."""
        return [Event.from_activity(a) for a in self.activities(ref, id_type, type="event")]

    def ingestion_log(self) -> list[LogEntry]:
        """Calls roster accepted but did not use, and why, oldest first."""
        return [
            LogEntry.from_answer(entry)
            for entry in self._oldest_first("/api/ingestion-log", "entries")
        ]

    def outbox(self) -> list[OutboxMessage]:
        """The transactional messages the app sent through Customer.io's API (`/v1/send/*`),
        which roster recorded and never sent, oldest first."""
        return [
            OutboxMessage.from_answer(entry)
            for entry in self._oldest_first("/api/outbox", "messages")
        ]

    def explain(
        self,
        method: str,
        path: str,
        body: Any = None,
        door: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Explanation:
        """What roster would do with this call, and by which rules, writing nothing: why a call
        updated Ada instead of creating Bob (docs/api.md §5). `door` follows from the path
        (`/api/v1/…` Track v1, `/api/v2/…` Track v2, `/v1/identify`… Segment,
        `/segment/webhook/…` its webhook, the App API's `/v1/…` and `/api/suppressions…` app)
        unless given."""
        request: dict[str, Any] = {
            "door": door or _door_of(path),
            "method": method,
            "path": path,
        }
        if body is not None:
            request["body"] = body
        if headers:
            request["headers"] = headers
        answer = self.app_api._ok(self.app_api.http.post("/api/explain", json=request))
        return Explanation.from_answer(answer)

    def _oldest_first(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every entry of one of roster's newest-first keyset lists, oldest first."""
        entries: list[dict[str, Any]] = []
        start = ""
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if start:
                params["start"] = start
            page = self.app_api._ok(self.app_api.http.get(path, params=params))
            entries.extend(page[key])
            start = page.get("next") or ""
            if not start:
                return list(reversed(entries))

    def __repr__(self) -> str:
        return f"<roster workspace {self.credentials.get('name')!r} at {self.base_url}>"


def _door_of(path: str) -> str:
    door = door_serving(path)
    if door is None:
        raise ValueError(f"no door takes {path!r}: give door= ({', '.join(DOORS)})")
    return door


class _Shutdown:
    """segment's client ends with shutdown(), not close(), and only when it has consumer threads
    to end (in sync_mode it has none, and its shutdown() fails)."""

    def __init__(self, client: SegmentClient) -> None:
        self.client = client

    def close(self) -> None:
        if self.client.consumers:
            self.client.shutdown()
