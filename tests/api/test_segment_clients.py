"""The real client libraries, unmodified, against a real `roster serve` (docs/api.md §2, §3, §7):

- segment-analytics-python (Segment's Python library; posts to /v1/batch, may gzip);
- customerio-cdp-analytics (Customer.io's Data Pipelines fork of it). Its package is named
  `customerio`, like customerio-python's, so it lives in a virtual environment of its own and
  is driven by a script run with that environment's python;
- customerio-python's `batch()` (Track API v2 `/api/v2/batch`, HTTPS only).

Every result is checked through the App API, not only through status codes."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from customerio import CustomerIO
from segment.analytics import Client as SegmentClient
from segment.analytics import request as segment_request
from segment.analytics.request import APIError

from tests.api.calls import ingestion_log
from tests.server import AppApi, RunningRoster

pytestmark = pytest.mark.server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
AT = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
AT_SECONDS = 1710504000
CREATED = datetime(2023, 6, 1, 8, 30, tzinfo=UTC)
CREATED_SECONDS = 1685608200


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRoster]:
    folder = tmp_path_factory.mktemp("segment-clients")
    with RunningRoster(f"sqlite:///{folder / 'roster.db'}", folder / "data") as running:
        yield running


def object_of(app: AppApi, type_id: str, object_id: str) -> dict[str, Any] | None:
    answer = app.http.get(f"/v1/objects/{type_id}/{object_id}")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["object"]
    return found


def events_of(app: AppApi, ref: str) -> list[tuple[str, str, Any, int]]:
    """(type, name, data, timestamp) of a person's events, oldest first."""
    return sorted(
        ((e["type"], e["name"], e.get("data"), e["timestamp"]) for e in app.events(ref)),
        key=lambda event: (event[3], event[0], event[1]),
    )


# -- segment-analytics-python ---------------------------------------------------------------------


@dataclass
class Exchange:
    """What segment-analytics-python sent and what roster answered."""

    status: int
    retry_count: str | None
    content_encoding: str | None
    messages: int


@dataclass
class Wire:
    exchanges: list[Exchange] = field(default_factory=list)

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        sent = response.request
        body = sent.body if isinstance(sent.body, bytes) else (sent.body or "").encode()
        if sent.headers.get("Content-Encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        self.exchanges.append(
            Exchange(
                status=response.status_code,
                retry_count=sent.headers.get("X-Retry-Count"),
                content_encoding=sent.headers.get("Content-Encoding"),
                messages=len(json.loads(body)["batch"]),
            )
        )


@pytest.fixture
def wire() -> Iterator[Wire]:
    """Every request segment-analytics-python makes (its module-wide requests session), with
    roster's answer. The session is closed afterwards: a kept-alive connection would hold up
    the server's graceful stop."""
    seen = Wire()
    session = segment_request._session
    session.hooks["response"].append(seen.hook)
    try:
        yield seen
    finally:
        session.hooks["response"].remove(seen.hook)
        session.close()


@pytest.fixture
def segment(roster: RunningRoster, wire: Wire) -> SegmentClient:
    """A blocking client: each call is one request to /v1/batch."""
    return SegmentClient(roster.credentials["write_key"], host=roster.base_url, sync_mode=True)


def test_segment_analytics_python_posts_each_call_to_v1_batch_and_roster_answers_200(
    roster: RunningRoster, segment: SegmentClient, wire: Wire, app: AppApi, uid: str
) -> None:
    segment.identify(uid, {"plan": "pro"})
    segment.track(uid, "Signed Up")

    assert [(e.status, e.retry_count, e.messages) for e in wire.exchanges] == [
        (200, None, 1),
        (200, None, 1),
    ]
    assert app.must(uid)["attributes"]["plan"] == "pro"
    assert [name for _, name, _, _ in events_of(app, uid)] == ["Signed Up"]


def test_segment_identify_stores_traits_with_iso_dates_as_unix_seconds_and_links_the_anonymous_id(
    segment: SegmentClient, app: AppApi, uid: str
) -> None:
    email = f"{uid}@example.com"

    segment.identify(
        uid,
        {
            "email": email,
            "plan": "pro",
            "createdAt": CREATED,
            "company": {"name": "Acme", "founded": date(2001, 2, 3)},
            "tags": ["2024-01-01"],  # arrays are not walked
        },
        anonymous_id=f"anon-{uid}",
        timestamp=AT,
    )

    person = app.must(uid)
    assert person["identifiers"]["email"] == email
    attributes = {k: v for k, v in person["attributes"].items() if not k.startswith(("cio", "_"))}
    company = json.loads(attributes.pop("company"))
    assert company == {"name": "Acme", "founded": 981158400}
    assert attributes == {
        "id": uid,
        "email": email,
        "plan": "pro",
        "created_at": str(CREATED_SECONDS),
        "tags": '["2024-01-01"]',
    }
    assert person["anonymous_ids"] == [f"anon-{uid}"]
    assert set(person["timestamps"].values()) == {AT_SECONDS}  # the envelope timestamp
    assert app.must(email, "email")["identifiers"] == person["identifiers"]


def test_segment_track_stores_the_event_once_per_message_id(
    segment: SegmentClient, app: AppApi, uid: str, wire: Wire
) -> None:
    message_id = f"m-{uid}"
    properties = {"revenue": 19.99, "ordered_at": AT}

    segment.track(uid, "Order Completed", properties, timestamp=AT, message_id=message_id)
    segment.track(uid, "Order Completed", properties, timestamp=AT, message_id=message_id)
    segment.track(uid, "Viewed", timestamp=AT)  # the library makes a messageId of its own
    segment.track(uid, "Viewed", timestamp=AT)

    assert [e.status for e in wire.exchanges] == [200] * 4
    assert events_of(app, uid) == [
        ("event", "Order Completed", {"revenue": 19.99, "ordered_at": AT_SECONDS}, AT_SECONDS),
        ("event", "Viewed", {}, AT_SECONDS),
        ("event", "Viewed", {}, AT_SECONDS),
    ]


def test_segment_page_is_named_by_its_url_else_its_name_and_screen_by_its_name(
    segment: SegmentClient, app: AppApi, uid: str
) -> None:
    segment.page(
        uid,
        name="Pricing",
        properties={"url": "https://example.com/pricing", "title": "Pricing"},
        timestamp=AT,
    )
    segment.page(uid, category="Docs", name="Introduction", timestamp=AT)
    segment.screen(uid, name="Home", properties={"feed_type": "private"}, timestamp=AT)

    assert events_of(app, uid) == [
        ("page", "Introduction", {}, AT_SECONDS),
        (
            "page",
            "https://example.com/pricing",
            {"url": "https://example.com/pricing", "title": "Pricing"},
            AT_SECONDS,
        ),
        ("screen", "Home", {"feed_type": "private"}, AT_SECONDS),
    ]


def test_segment_group_identifies_an_object_related_to_the_user(
    segment: SegmentClient, app: AppApi, uid: str
) -> None:
    segment.group(uid, f"acme-{uid}", {"name": "Acme", "founded": date(2001, 2, 3)})
    segment.group(
        uid,
        f"team-{uid}",
        {
            "object_type_id": "2",
            "objectAttributes": {"name": "Sales"},
            "relationshipAttributes": {"role": "admin", "since": CREATED},
        },
    )

    acme = object_of(app, "1", f"acme-{uid}")
    assert acme is not None
    assert acme["attributes"] == {"name": "Acme", "founded": 981158400}
    assert [(r["id"], r["relationship_attributes"]) for r in acme["relationships"]] == [(uid, {})]
    team = object_of(app, "2", f"team-{uid}")
    assert team is not None
    assert team["attributes"] == {"name": "Sales"}
    assert [r["relationship_attributes"] for r in team["relationships"]] == [
        {"role": "admin", "since": CREATED_SECONDS}
    ]
    assert sorted(
        (r["object_type_id"], r["object_id"]) for r in app.must(uid)["relationships"]
    ) == [("1", f"acme-{uid}"), ("2", f"team-{uid}")]


def test_segment_alias_merges_the_previous_person_into_the_user(
    segment: SegmentClient, app: AppApi, uid: str
) -> None:
    previous = f"{uid}-old"
    segment.identify(previous, {"city": "Oslo", "plan": "silver"})
    segment.track(previous, "Old Event", timestamp=AT)
    segment.identify(uid, {"plan": "gold"})
    old_cio_id = app.must(previous)["identifiers"]["cio_id"]

    segment.alias(previous_id=previous, user_id=uid)

    assert app.customer(old_cio_id, "cio_id") is None
    person = app.must(uid)
    assert person["attributes"]["plan"] == "gold"
    assert person["attributes"]["city"] == "Oslo"
    assert [name for _, name, _, _ in events_of(app, uid)] == ["Old Event"]
    assert [a["type"] for a in app.activities(uid, type="profile_merge")] == ["profile_merge"]


def test_segment_alias_from_an_anonymous_id_links_it_and_its_events_to_the_user(
    segment: SegmentClient, app: AppApi, uid: str
) -> None:
    anonymous_id = f"anon-{uid}"
    segment.track(event="Visited", anonymous_id=anonymous_id, timestamp=AT)
    segment.identify(uid, {"plan": "pro"})

    segment.alias(previous_id=anonymous_id, user_id=uid)

    assert app.must(uid)["anonymous_ids"] == [anonymous_id]
    assert events_of(app, uid) == [("event", "Visited", {}, AT_SECONDS)]


def test_segment_analytics_python_with_gzip_is_understood(
    roster: RunningRoster, wire: Wire, app: AppApi, uid: str
) -> None:
    client = SegmentClient(
        roster.credentials["write_key"], host=roster.base_url, sync_mode=True, gzip=True
    )

    client.identify(uid, {"plan": "zipped"})
    client.track(uid, "Compressed", {"n": 1}, timestamp=AT)

    assert [(e.status, e.content_encoding) for e in wire.exchanges] == [(200, "gzip")] * 2
    assert app.must(uid)["attributes"]["plan"] == "zipped"
    assert events_of(app, uid) == [("event", "Compressed", {"n": 1}, AT_SECONDS)]


def test_segment_analytics_python_in_the_background_batches_the_queue_and_never_retries(
    roster: RunningRoster, wire: Wire, app: AppApi, uid: str
) -> None:
    """The default mode: a consumer thread batches the queue. One unusable message (a page with
    neither url nor name) is dropped and logged; it costs the others nothing, and the library
    sees a 200, so it neither retries nor reports an error."""
    errors: list[Any] = []
    client = SegmentClient(
        roster.credentials["write_key"],
        host=roster.base_url,
        upload_interval=0.05,
        max_retries=3,
        on_error=lambda error, batch: errors.append(error),
    )
    client.identify(uid, {"plan": "queued"})
    for n in range(20):
        client.track(uid, "Clicked", {"n": n}, timestamp=AT)
    client.page(uid, message_id=f"unusable-{uid}")
    client.shutdown()

    assert errors == []
    assert all((e.status, e.retry_count) == (200, None) for e in wire.exchanges)
    assert sum(e.messages for e in wire.exchanges) == 22
    assert app.must(uid)["attributes"]["plan"] == "queued"
    assert sorted(data["n"] for _, _, data, _ in events_of(app, uid)) == list(range(20))
    dropped = [e for e in ingestion_log(app.http, {}) if e.get("message_id") == f"unusable-{uid}"]
    assert [(e["door"], e["type"], e["reason"]) for e in dropped] == [
        ("segment", "page", "a page call needs properties.url or a name")
    ]


def test_segment_analytics_python_with_a_wrong_write_key_gets_a_401_it_does_not_retry(
    roster: RunningRoster, wire: Wire, app: AppApi, uid: str
) -> None:
    errors: list[Any] = []
    client = SegmentClient(
        "not-the-write-key",
        host=roster.base_url,
        upload_interval=0.05,
        max_retries=3,
        on_error=lambda error, batch: errors.append(error),
    )
    client.identify(uid, {"plan": "never"})
    client.shutdown()

    assert [(e.status, e.retry_count) for e in wire.exchanges] == [(401, None)]
    (error,) = errors
    assert isinstance(error, APIError)
    assert error.status == 401
    assert error.code != "unknown"  # roster's body carries code and message
    assert error.message
    assert app.customer(uid) is None


# -- customerio-cdp-analytics, in a virtual environment of its own --------------------------------


def _unreachable(output: str) -> bool:
    markers = (
        "No matching distribution found",
        "Could not find a version",
        "NewConnectionError",
        "Temporary failure in name resolution",
        "Max retries exceeded",
        "Network is unreachable",
        "Connection refused",
        "ProxyError",
    )
    return any(marker in output for marker in markers)


@pytest.fixture(scope="session")
def cdp_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a virtual environment holding customerio-cdp-analytics (made once per
    session). Without a reachable package index: a loud skip, or a failure under CI=true."""
    folder = tmp_path_factory.mktemp("cdp-venv")
    python = folder / "bin" / "python"
    # The environment gets no pip of its own (ensurepip takes seconds): the project's pip
    # installs into it.
    steps = (
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--disable-pip-version-check", "customerio-cdp-analytics"],
    )  # fmt: skip
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=240, check=False)
        if done.returncode != 0:
            output = f"{done.stdout}\n{done.stderr}"
            message = f"`{' '.join(step)}` failed ({done.returncode}):\n{output[-2000:]}"
            if _unreachable(output) and not IN_CI:
                pytest.skip(
                    "SKIPPED LOUDLY: the package index is unreachable, so the "
                    f"customerio-cdp-analytics tests did not run. {message}"
                )
            pytest.fail(message, pytrace=False)
    return python


CDP_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime, timezone

    from customerio import analytics
    from customerio.analytics import request

    base_url, write_key, uid = sys.argv[1:4]
    statuses = []
    request._session.hooks["response"].append(
        lambda response, *args, **kwargs: statuses.append(
            [response.status_code, response.request.headers.get("Content-Encoding")]
        )
    )
    at = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)
    created = datetime(2023, 6, 1, 8, 30, tzinfo=timezone.utc)
    errors = []

    client = analytics.Client(write_key, host=base_url, sync_mode=True)
    client.identify(uid, {"email": uid + "@example.com", "plan": "pro", "createdAt": created},
                    anonymous_id="anon-" + uid, timestamp=at)
    for _ in range(2):  # a retry of the same message
        client.track(uid, "Order Completed", {"revenue": 19.99, "ordered_at": at},
                     timestamp=at, message_id="m-" + uid)
    client.page(uid, name="Pricing", properties={"url": "https://example.com/pricing"},
                timestamp=at)
    client.screen(uid, name="Home", properties={"feed_type": "private"}, timestamp=at)
    client.group(uid, "acme-" + uid, {"name": "Acme", "since": created})
    client.identify(uid + "-old", {"city": "Oslo"})
    client.alias(previous_id=uid + "-old", user_id=uid)

    # the default, background mode, gzipped
    background = analytics.Client(write_key, host=base_url, gzip=True, upload_interval=0.05,
                                  max_retries=3, on_error=lambda e, batch: errors.append(str(e)))
    for n in range(5):
        background.track(uid, "Clicked", {"n": n}, timestamp=at)
    background.shutdown()

    request._session.close()
    print(json.dumps({"statuses": statuses, "errors": errors,
                      "module": analytics.__file__}))
    """
)


@dataclass
class CdpRun:
    uid: str
    statuses: list[list[Any]]
    errors: list[str]
    module: str


@pytest.fixture(scope="module")
def cdp_run(cdp_python: Path, roster: RunningRoster) -> CdpRun:
    uid = f"cdp{uuid.uuid4().hex[:10]}"
    done = subprocess.run(
        [str(cdp_python), "-c", CDP_SCRIPT, roster.base_url, roster.credentials["write_key"], uid],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"the customerio-cdp-analytics script failed:\n{done.stderr}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return CdpRun(uid, report["statuses"], report["errors"], report["module"])


def test_customerio_cdp_analytics_lives_apart_from_customerio_python(
    cdp_run: CdpRun, cdp_python: Path
) -> None:
    assert Path(cdp_run.module).is_relative_to(cdp_python.parent.parent)
    # here, in the project's environment, `customerio` is still customerio-python
    assert importlib.util.find_spec("customerio.analytics") is None
    assert CustomerIO.__name__ == "CustomerIO"
    assert Path(sys.modules["customerio"].__file__ or "").is_relative_to(Path(sys.prefix))


def test_customerio_cdp_analytics_requests_are_all_answered_200_and_none_is_retried(
    cdp_run: CdpRun, app: AppApi
) -> None:
    sync_calls = 8
    assert cdp_run.errors == []
    assert [status for status, _ in cdp_run.statuses] == [200] * len(cdp_run.statuses)
    assert [encoding for _, encoding in cdp_run.statuses[:sync_calls]] == [None] * sync_calls
    assert {encoding for _, encoding in cdp_run.statuses[sync_calls:]} == {"gzip"}
    clicks = [data["n"] for _, name, data, _ in events_of(app, cdp_run.uid) if name == "Clicked"]
    assert sorted(clicks) == list(range(5))


def test_customerio_cdp_analytics_identify_stores_traits_and_links_the_anonymous_id(
    cdp_run: CdpRun, app: AppApi
) -> None:
    uid = cdp_run.uid
    person = app.must(uid)
    assert person["identifiers"]["email"] == f"{uid}@example.com"
    assert person["attributes"]["plan"] == "pro"
    assert person["attributes"]["created_at"] == str(CREATED_SECONDS)
    assert "createdAt" not in person["attributes"]
    assert person["anonymous_ids"] == [f"anon-{uid}"]


def test_customerio_cdp_analytics_track_page_and_screen_become_events_once_each(
    cdp_run: CdpRun, app: AppApi
) -> None:
    events = [e for e in events_of(app, cdp_run.uid) if e[1] != "Clicked"]
    assert events == [
        ("event", "Order Completed", {"revenue": 19.99, "ordered_at": AT_SECONDS}, AT_SECONDS),
        ("page", "https://example.com/pricing", {"url": "https://example.com/pricing"}, AT_SECONDS),
        ("screen", "Home", {"feed_type": "private"}, AT_SECONDS),
    ]


def test_customerio_cdp_analytics_group_and_alias_make_an_object_and_merge_people(
    cdp_run: CdpRun, app: AppApi
) -> None:
    uid = cdp_run.uid
    acme = object_of(app, "1", f"acme-{uid}")
    assert acme is not None
    assert acme["attributes"] == {"name": "Acme", "since": CREATED_SECONDS}
    assert [r["id"] for r in acme["relationships"]] == [uid]
    assert app.customer(f"{uid}-old") is None
    assert app.must(uid)["attributes"]["city"] == "Oslo"
    assert [a["type"] for a in app.activities(uid, type="profile_merge")] == ["profile_merge"]


# -- customerio-python's batch(), over HTTPS ------------------------------------------------------


@pytest.fixture
def tls_app(tls_roster: RunningRoster) -> Iterator[AppApi]:
    with tls_roster.app_api() as api:
        yield api


def batch_of_four(uid: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": uid},
            "attributes": {"email": f"{uid}@example.com", "plan": "pro"},
            "timestamp": AT,  # the client turns datetimes into unix seconds
        },
        {
            "type": "person",
            "action": "event",
            "identifiers": {"id": uid},
            "name": "purchase",
            "id": f"e-{uid}",
            "attributes": {"sku": "a-1"},
            "timestamp": AT_SECONDS,
        },
        {
            "type": "person",
            "action": "add_device",
            "identifiers": {"id": uid},
            "device": {"token": f"tok-{uid}", "platform": "android", "last_used": AT_SECONDS},
        },
        {
            "type": "object",
            "action": "identify",
            "identifiers": {"object_type_id": "1", "object_id": f"org-{uid}"},
            "attributes": {"name": "Org"},
            "cio_relationships": [
                {"identifiers": {"id": uid}, "relationship_attributes": {"role": "owner"}}
            ],
        },
    ]


def test_customerio_python_batch_applies_identify_event_device_and_object_over_https(
    tls_roster: RunningRoster, cio: CustomerIO, tls_app: AppApi, uid: str
) -> None:
    assert tls_roster.base_url.startswith("https://")

    response = cio.batch(batch_of_four(uid))
    cio.batch(batch_of_four(uid)[1:2])  # the event again: its id de-duplicates

    assert response.status_code == 200
    assert response.json() == {}
    person = tls_app.must(uid)
    assert person["identifiers"]["email"] == f"{uid}@example.com"
    assert person["attributes"]["plan"] == "pro"
    assert set(person["timestamps"].values()) == {AT_SECONDS}
    assert person["devices"] == [
        {"id": f"tok-{uid}", "platform": "android", "last_used": AT_SECONDS, "attributes": {}}
    ]
    assert person["relationships"] == [
        {"object_type_id": "1", "object_id": f"org-{uid}", "attributes": {"role": "owner"}}
    ]
    assert events_of(tls_app, uid) == [("event", "purchase", {"sku": "a-1"}, AT_SECONDS)]
    org = object_of(tls_app, "1", f"org-{uid}")
    assert org is not None
    assert org["attributes"] == {"name": "Org"}
    assert [(r["id"], r["relationship_attributes"]) for r in org["relationships"]] == [
        (uid, {"role": "owner"})
    ]


def test_customerio_python_batch_with_one_bad_item_returns_the_207_and_applies_the_rest(
    cio: CustomerIO, tls_app: AppApi, uid: str
) -> None:
    operations = batch_of_four(uid)
    operations.insert(
        2,
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": f"{uid}-bad"},
            "attributes": {"plan": "x" * 1001},
        },
    )

    response = cio.batch(operations)  # a 2xx: the client returns it, it does not raise

    assert response.status_code == 207
    (error,) = response.json()["errors"]
    assert error["batch_index"] == 2
    assert error["reason"] == "invalid"
    assert "cannot be longer than 1000 bytes" in error["message"]
    assert tls_app.customer(f"{uid}-bad") is None
    person = tls_app.must(uid)
    assert person["attributes"]["plan"] == "pro"
    assert [d["id"] for d in person["devices"]] == [f"tok-{uid}"]
    assert [name for _, name, _, _ in events_of(tls_app, uid)] == ["purchase"]
    assert object_of(tls_app, "1", f"org-{uid}") is not None


def test_customerio_python_batch_with_a_wrong_key_raises_and_writes_nothing(
    tls_roster: RunningRoster, trusted: None, tls_app: AppApi, uid: str
) -> None:
    with CustomerIO(
        tls_roster.site_id, "not-the-key", host="127.0.0.1", port=tls_roster.port, retries=0
    ) as client:
        try:
            client.batch(batch_of_four(uid))
        except Exception as error:  # CustomerIOException; not pytest.raises, see below
            message = str(error)
        else:
            raise AssertionError("the client did not raise")

    # (the traceback pytest.raises keeps would hold the client's connection open)
    assert message.startswith("401:")
    assert tls_app.customer(uid) is None
