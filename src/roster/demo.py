"""Sample data for trying roster, sent through its real HTTP APIs (Track v1, v2 and Segment),
so that what it shows is what a real integration would have produced."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx

Call = tuple[str, str, str, Any]  # (door, method, path, body)

COMPANIES = [("acme", "Acme Corp", "manufacturing"), ("globex", "Globex", "energy")]


def _leads() -> list[Call]:
    """Leads captured by email that later sign up with an id: one person each (I3.3)."""
    calls: list[Call] = []
    for n, name in enumerate(["ada", "grace", "katherine", "margaret", "barbara"], start=1):
        email = f"{name}@example.com"
        calls.append(
            (
                "track",
                "PUT",
                f"/api/v1/customers/{email}",
                {"first_name": name.title(), "source": "newsletter"},
            )
        )
        calls.append(
            (
                "track",
                "PUT",
                f"/api/v1/customers/user-{n}",
                {
                    "email": email,
                    "plan": "pro" if n % 2 else "free",
                    "created_at": 1_700_000_000 + n * 86_400,
                },
            )
        )
        calls.append(
            (
                "track",
                "POST",
                f"/api/v1/customers/user-{n}/events",
                {"name": "signed_up", "id": f"demo-signup-{n}", "data": {"via": "web"}},
            )
        )
    return calls


def _visitors() -> list[Call]:
    """Anonymous visitors whose page views follow them once they log in (I7.2)."""
    batch: list[dict[str, Any]] = []
    for n, name in enumerate(["linus", "guido", "bjarne"], start=10):
        anonymous = f"anon-{name}"
        for page in ("/", "/pricing", "/signup"):
            batch.append(
                {
                    "type": "page",
                    "anonymousId": anonymous,
                    "name": page,
                    "messageId": f"demo-{name}{page}",
                    "properties": {"url": f"https://example.com{page}"},
                }
            )
        batch.append(
            {
                "type": "identify",
                "userId": f"user-{n}",
                "anonymousId": anonymous,
                "traits": {
                    "email": f"{name}@example.com",
                    "name": name.title(),
                    "createdAt": "2024-03-15T12:00:00Z",
                },
            }
        )
        batch.append(
            {
                "type": "track",
                "userId": f"user-{n}",
                "event": "Order Completed",
                "messageId": f"demo-order-{n}",
                "properties": {"revenue": 10 * n},
            }
        )
    return [("segment", "POST", "/v1/batch", {"batch": batch})]


def _others() -> list[Call]:
    group = [
        {
            "type": "group",
            "userId": f"user-{n}",
            "groupId": company,
            "traits": {
                "objectAttributes": {"name": title, "industry": industry},
                "relationshipAttributes": {"role": "admin" if n == 1 else "member"},
            },
        }
        for n, (company, title, industry) in zip((1, 2, 3), COMPANIES * 2, strict=False)
    ]
    return [
        ("track", "PUT", "/api/v1/customers/user-3", {"unsubscribed": True}),
        # A duplicate pair: the same human known by id on one side and by email on the other.
        ("track", "PUT", "/api/v1/customers/user-20", {"first_name": "Alan", "plan": "free"}),
        ("track", "PUT", "/api/v1/customers/alan@example.com", {"first_name": "Alan"}),
        (
            "track",
            "PUT",
            "/api/v1/customers/user-1/devices",
            {"device": {"id": "demo-ios-token-1", "platform": "ios", "app_version": "2.4.0"}},
        ),
        ("segment", "POST", "/v1/batch", {"batch": group}),
        (
            "v2",
            "POST",
            "/api/v2/entity",
            {
                "type": "person",
                "action": "event",
                "name": "viewed_dashboard",
                "identifiers": {"id": "user-2"},
                "attributes": {"widgets": 4},
            },
        ),
    ]


def plan() -> list[Call]:
    return [*_leads(), *_visitors(), *_others()]


def load(
    base_url: str,
    credentials: dict[str, Any],
    verify: Any = True,
    step: Callable[[], None] = lambda: None,
) -> int:
    """Send every sample call; returns how many were sent. Raises on any non-2xx answer."""
    basic = base64.b64encode(
        f"{credentials['site_id']}:{credentials['track_api_key']}".encode()
    ).decode()
    auth = {
        "track": {"Authorization": f"Basic {basic}"},
        "v2": {"Authorization": f"Basic {basic}"},
        "segment": {"Authorization": f"Bearer {credentials['write_key']}"},
    }
    calls = plan()
    with httpx.Client(base_url=base_url, verify=verify, timeout=30) as client:
        for door, method, path, body in calls:
            answer = client.request(method, path, json=body, headers=auth[door])
            if answer.status_code >= 300:
                raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text}")
            step()
    return len(calls)
