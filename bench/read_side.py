"""The read side on the fixed data set (bench/dataset.py: 1,000,000 people, 20 attributes each),
one `roster serve` on SQLite, one request at a time as a user or a script asks:

- search: exact id, cio_id and email look-ups, and keyset pages of filters (people with an
  email but no id; an attribute equality), page 1 and page 50, p95 over repeated requests;
- the duplicate finder's pages 1 and 50, p95;
- the web UI's People page, searched by email, id, `plan=pro` and "email but no id", logged in
  (bench/people_page.py), p95 of the server's own time;
- the CSV export of everyone: rows/s through the signed download link, and the server's peak
  RSS with its helper process's added (it must stream: memory may not grow with the number of
  people);
- delete by list of 10,000 people: seconds.

A part whose endpoint the server does not have yet (404 or 405) is recorded as skipped with the
reason rather than failing the run.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import BenchError, console
from bench.dataset import PEOPLE, build, cio_id, is_id_only, is_lead, person_email, person_id
from bench.machine import children, proc_memory_mb
from bench.people_page import logged_in, people_page, worst_p95
from bench.servers import Server
from roster.testing.server import create_workspace

PAGE_SIZE = 50
FAR_PAGE = 50
EMAIL_BUT_NO_ID = {
    "and": [
        {"attribute": {"field": "email", "operator": "exists"}},
        {"not": {"attribute": {"field": "id", "operator": "exists"}}},
    ]
}
PLAN_IS_PRO = {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}
DELETED = 10_000


class Missing(Exception):
    """The server has no such endpoint yet."""


def _ok(answer: httpx.Response, what: str) -> Any:
    # roster's answers for a path or a method no route has.
    if answer.status_code == 405 or (
        answer.status_code == 404 and "no such endpoint" in answer.text
    ):
        raise Missing(f"{what}: {answer.status_code} {answer.text[:120]}")
    if answer.status_code != 200:
        raise BenchError(f"{what} answered {answer.status_code}: {answer.text[:200]}")
    return answer.json()


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2)


def _timed(call: Callable[[], Any], samples: int) -> dict[str, float]:
    call()  # a warm-up: the first request of a kind pays for caches and query plans
    took = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        took.append(time.perf_counter() - started)
    return {"p50_ms": round(statistics.median(took) * 1000, 2), "p95_ms": _p95(took)}


def _skippable(name: str, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        with console.status(f"read side: {name} ..."):
            return measure()
    except Missing as missing:
        console.print(f"  [yellow]{name} skipped:[/] {missing}")
        return {"skipped": True, "reason": str(missing)}


def _lookups(http: httpx.Client, people: int, samples: int) -> dict[str, Any]:
    rng = random.Random(11)
    known = [i for i in rng.sample(range(people), min(people, 4 * samples))]
    with_id = [i for i in known if not is_lead(i)]
    with_email = [i for i in known if not is_id_only(i)]

    def one(path: str, params: dict[str, str] | None = None) -> Callable[[], Any]:
        return lambda: _ok(http.get(path, params=params), f"GET {path}")

    found: dict[str, Any] = {}
    ids = iter(with_id * samples)
    found["exact_id"] = _timed(
        lambda: one(f"/v1/customers/{person_id(next(ids))}/attributes")(), samples
    )
    cios = iter(known * samples)
    found["exact_cio_id"] = _timed(
        lambda: one(f"/v1/customers/{cio_id(next(cios))}/attributes", {"id_type": "cio_id"})(),
        samples,
    )
    emails = iter(with_email * samples)
    found["exact_email"] = _timed(
        lambda: one("/v1/customers", {"email": str(person_email(next(emails)))})(), samples
    )
    return found


def _pages(fetch: Callable[[str], dict[str, Any]], what: str, samples: int) -> dict[str, Any]:
    """Page 1 and page FAR_PAGE of a keyset list: the cursor to page FAR_PAGE is found by
    walking, then each page is asked for `samples` times. A list with fewer pages (a --quick
    run's data set) has its last page measured instead, named by its number."""
    cursor, far, reached = str(fetch("").get("next") or ""), "", 1
    while reached < FAR_PAGE and cursor:
        following = fetch(cursor)
        if not any(isinstance(v, list) and v for v in following.values()):
            break  # a full last page's `next` leads to an empty page
        far, reached, cursor = cursor, reached + 1, str(following.get("next") or "")
    return {
        "page_1": _timed(lambda: fetch(""), samples),
        f"page_{reached}": _timed(lambda: fetch(far), samples),
    }


def _filter_pages(
    http: httpx.Client, filter_: dict[str, Any], samples: int, size: int
) -> dict[str, Any]:
    def fetch(start: str) -> dict[str, Any]:
        params = {"limit": str(size), **({"start": start} if start else {})}
        answer = http.post("/v1/customers", params=params, json={"filter": filter_})
        return dict(_ok(answer, "POST /v1/customers"))

    return _pages(fetch, "POST /v1/customers", samples)


def _duplicate_pages(http: httpx.Client, samples: int, size: int) -> dict[str, Any]:
    def fetch(start: str) -> dict[str, Any]:
        params = {"limit": str(size), **({"start": start} if start else {})}
        return dict(_ok(http.get("/api/duplicates", params=params), "GET /api/duplicates"))

    return _pages(fetch, "GET /api/duplicates", samples)


def _export(http: httpx.Client, server: Server) -> dict[str, Any]:
    created = _ok(http.post("/v1/exports/customers", json={}), "POST /v1/exports/customers")
    export_id = created["export"]["id"]
    deadline = time.monotonic() + 600
    while created["export"]["status"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
        created = _ok(http.get(f"/v1/exports/{export_id}"), "GET /v1/exports/{id}")
    if created["export"]["status"] != "done":
        raise BenchError(f"the export ended {created['export']['status']}")
    link = _ok(http.get(f"/v1/exports/{export_id}/download"), "GET /v1/exports/{id}/download")
    rows = -1  # the header line
    size = 0
    helpers = _HelperPeaks(server.pid)
    started = time.perf_counter()
    with helpers, httpx.stream("GET", link["link"], timeout=600) as answer:
        if answer.status_code != 200:
            raise BenchError(f"the export's link answered {answer.status_code}")
        for chunk in answer.iter_bytes():
            size += len(chunk)
            rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    server_peak = proc_memory_mb(server.pid).get("VmHWM", 0.0)
    helper_peak = sum(helpers.peaks.values())
    return {
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else 0,
        # The server's peak and its helper processes' (docs/decisions.md, *An export writes its
        # file on two cores*), added: never less than their peak together.
        "server_peak_rss_mb": round(server_peak + helper_peak, 1),
        "server_process_peak_rss_mb": server_peak,
        "helper_peak_rss_mb": round(helper_peak, 1),
        "helpers": len(helpers.peaks),
    }


class _HelperPeaks:
    """The peak RSS of each process the server starts while the export downloads, sampled
    every 50 ms (a helper's VmHWM is its peak so far; it is gone once the helper ends)."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self.peaks: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            for child in children(self._pid):
                try:
                    peak = proc_memory_mb(child).get("VmHWM", 0.0)
                except OSError:
                    continue  # ended since the listing
                self.peaks[child] = max(peak, self.peaks.get(child, 0.0))

    def __enter__(self) -> _HelperPeaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def _delete(http: httpx.Client, people: int) -> dict[str, Any]:
    ids = [str(person_id(i)) for i in range(people) if person_id(i) is not None][:DELETED]
    started = time.perf_counter()
    answer = _ok(
        http.post("/v1/customers/delete", json={"ids": ids, "id_type": "id"}, timeout=600),
        "POST /v1/customers/delete",
    )
    seconds = time.perf_counter() - started
    if answer["deleted"] != len(ids):
        raise BenchError(f"delete by list deleted {answer['deleted']} of {len(ids)}")
    return {"deleted": answer["deleted"], "seconds": round(seconds, 2)}


def _people_page(server: Server, url: str, home: Path, people: int, samples: int) -> dict[str, Any]:
    with logged_in(server.url, url, home / "data") as browser:
        return people_page(browser, people, samples)


def read_side(
    folder: Path, people: int = PEOPLE, samples: int = 20, page_size: int = PAGE_SIZE
) -> dict[str, Any]:
    """Every read-side figure on `people` people (the targets name 1,000,000), pages of
    `page_size`."""
    home = folder / "read-side"
    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'roster.db'}"
    credentials = create_workspace(url, home / "data")
    built = build(home / "roster.db", int(credentials["workspace_id"]), people)
    console.print(f"  read side: {people:,} people written in {built:.1f} s")
    server = Server("read-side", home, credentials=credentials, data_dir=home / "data")
    result: dict[str, Any] = {
        "people": people, "attributes": 20, "page_size": page_size, "build_s": round(built, 1)
    }  # fmt: skip
    try:
        server.start()
        headers = {"Authorization": f"Bearer {server.app_api_key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            result["lookups"] = _skippable("look-ups", lambda: _lookups(http, people, samples))
            result["filter_email_but_no_id"] = _skippable(
                "filter: an email but no id",
                lambda: _filter_pages(http, EMAIL_BUT_NO_ID, samples, page_size),
            )
            result["filter_attribute_eq"] = _skippable(
                "filter: plan = pro", lambda: _filter_pages(http, PLAN_IS_PRO, samples, page_size)
            )
            result["duplicates"] = _skippable(
                "duplicate finder", lambda: _duplicate_pages(http, samples, page_size)
            )
            result["people_page"] = _skippable(
                "People page", lambda: _people_page(server, url, home, people, samples)
            )
            result["export"] = _skippable("CSV export", lambda: _export(http, server))
            result["delete_by_list"] = _skippable("delete 10,000", lambda: _delete(http, people))
        result["server_peak_rss_mb"] = proc_memory_mb(server.pid).get("VmHWM", 0.0)
    finally:
        server.stop()
    return result


def figures(read: dict[str, Any]) -> dict[str, Any]:
    """The figures the targets judge: export rows/s and peak RSS, and the worst p95 of the
    searches, of the duplicate finder's pages and of the People page's searches (absent when
    the part was skipped)."""
    found: dict[str, Any] = {}
    export = read.get("export", {})
    if "rows_per_s" in export:
        found["csv_export_rows_per_s"] = export["rows_per_s"]
        found["csv_export_peak_rss_mb"] = export["server_peak_rss_mb"]
    searches = [
        timing["p95_ms"]
        for part in ("lookups", "filter_email_but_no_id", "filter_attribute_eq")
        for timing in read.get(part, {}).values()
        if isinstance(timing, dict)
    ]
    if searches:
        found["search_p95_ms_max"] = max(searches)
    duplicates = [
        timing["p95_ms"]
        for timing in read.get("duplicates", {}).values()
        if isinstance(timing, dict)
    ]
    if duplicates:
        found["duplicate_pages_p95_ms_max"] = max(duplicates)
    people_page_p95 = worst_p95(read.get("people_page", {}))
    if people_page_p95 is not None:
        found["people_page_p95_ms_max"] = people_page_p95
    if "seconds" in read.get("delete_by_list", {}):
        found["delete_10000_s"] = read["delete_by_list"]["seconds"]
    return found
