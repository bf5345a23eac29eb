"""The web UI's People page (docs/web.md, "People") on the read side's data set: a login made
with `roster users create`, logged in through `/login` as a browser does, then `GET /people`
searched four ways, one request at a time:

- an exact email term and an exact id term (a different person each time; one match, so one
  page);
- `plan=pro` in the search box, and "Show: email but no id", page 1 and page 50 (the cursor to
  page 50 found by following the page's own "Next page" link; the last page, named by its
  number, when a small data set has fewer);

each asked `samples` times. The time judged is the server's own, from the `Server-Timing:
app;dur=<ms>` header every answer carries (docs/operations.md, "Logs"): from the request's
arrival to the answer's headers, the page rendered. The client's time on loopback is recorded
beside it.
"""

from __future__ import annotations

import html
import random
import re
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx

from bench import BenchError
from bench.dataset import cio_id, person_email, person_id
from roster.testing.server import run_roster

FAR_PAGE = 50
LOGIN = "bench@example.com"
_NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TIMING = re.compile(r"app;dur=([0-9.]+)")
ROWS = '<table class="people">'  # a page that lists people
# What each search sends (the page's form fields), by the name results.json gives it.
LISTS: dict[str, dict[str, str]] = {
    "attribute_eq": {"q": "plan=pro"},
    "email_but_no_id": {"show": "email_no_id"},
}


@contextmanager
def logged_in(base_url: str, database_url: str, data_dir: Path) -> Iterator[httpx.Client]:
    """A client holding a session of a login made by `roster users create`, logged in through
    the login form (its CSRF token and cookie), as a browser does."""
    password = secrets.token_urlsafe(16)
    made = run_roster(
        "users", "create", LOGIN, "--password-stdin", "--database-url", database_url,
        data_dir=data_dir, input=password + "\n",
    )  # fmt: skip
    if made.returncode != 0:
        raise BenchError(f"roster users create failed: {made.stdout}{made.stderr}")
    with httpx.Client(base_url=base_url, timeout=60) as http:
        form = http.get("/login")
        token = _CSRF.search(form.text)
        if form.status_code != 200 or token is None:
            raise BenchError(f"GET /login answered {form.status_code} without a form token")
        fields = {"csrf_token": token[1], "next": "/people", "email": LOGIN, "password": password}
        answer = http.post("/login", data=fields)
        if answer.status_code != 303 or "roster_session" not in http.cookies:
            raise BenchError(f"logging in answered {answer.status_code}: {answer.text[:200]}")
        yield http


def _page(http: httpx.Client, params: dict[str, str], must_show: str | None) -> httpx.Response:
    answer = http.get("/people", params=params)
    if answer.status_code != 200:
        raise BenchError(f"GET /people {params} answered {answer.status_code}")
    if must_show is not None and must_show not in answer.text:
        raise BenchError(f"GET /people {params} did not show {must_show}")
    return answer


def _server_ms(answer: httpx.Response) -> float:
    timing = _TIMING.fullmatch(answer.headers.get("server-timing", ""))
    if timing is None:
        raise BenchError("the server's answer has no Server-Timing header")
    return float(timing[1])


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)


def _timed(ask: Callable[[], httpx.Response], samples: int) -> dict[str, float]:
    ask()  # a warm-up, as the API's searches have
    server, client = [], []
    for _ in range(samples):
        started = time.perf_counter()
        answer = ask()
        client.append((time.perf_counter() - started) * 1000)
        server.append(_server_ms(answer))
    return {
        "p50_ms": round(statistics.median(server), 2),
        "p95_ms": _p95(server),
        "client_p95_ms": _p95(client),
    }


def _next(answer: httpx.Response) -> dict[str, str] | None:
    """The query of the page's "Next page" link, or None on the last page."""
    found = _NEXT.search(answer.text)
    if found is None:
        return None
    query = httpx.URL(html.unescape(found[1])).params
    return dict(query.multi_items())


def _list_pages(http: httpx.Client, params: dict[str, str], samples: int) -> dict[str, Any]:
    """Page 1 and page FAR_PAGE, or the last page, named by its number, when there are fewer
    (a --quick run's data set)."""
    far, far_query, reached = _page(http, params, ROWS), params, 1
    while reached < FAR_PAGE and (query := _next(far)) is not None:
        following = _page(http, query, None)
        if ROWS not in following.text:  # a full last page's "Next" leads to no one
            break
        far, far_query, reached = following, query, reached + 1
    return {
        "page_1": _timed(lambda: _page(http, params, ROWS), samples),
        f"page_{reached}": _timed(lambda: _page(http, far_query, ROWS), samples),
    }


def _terms(people: int, samples: int, kind: str) -> Iterator[tuple[str, str]]:
    """(search term, the cio_id its page must show) for people drawn at random who have one."""
    drawn = random.Random(13).sample(range(people), min(people, 4 * samples))
    for i in cycle(drawn):
        term = person_email(i) if kind == "email" else person_id(i)
        if term is not None:
            yield term, cio_id(i)


def people_page(http: httpx.Client, people: int, samples: int) -> dict[str, Any]:
    """Every People-page search, each page's p50 and p95 (server) and the client's p95, ms."""
    found: dict[str, Any] = {}
    for kind in ("email", "id"):
        terms = _terms(people, samples, kind)

        def ask(terms: Iterator[tuple[str, str]] = terms) -> httpx.Response:
            term, shows = next(terms)
            return _page(http, {"q": term}, f"/people/{shows}")

        found[f"{kind}_term"] = {"page_1": _timed(ask, samples)}
    for name, params in LISTS.items():
        found[name] = _list_pages(http, params, samples)
    return found


def worst_p95(measured: dict[str, Any]) -> float | None:
    """The worst server p95 of every People-page search and page, or None when none ran."""
    p95s = [
        timing["p95_ms"]
        for part in measured.values()
        if isinstance(part, dict)
        for timing in part.values()
        if isinstance(timing, dict) and "p95_ms" in timing
    ]
    return max(p95s) if p95s else None
