"""Sign-ups, upgrades and devices, reported to Customer.io and to Segment. The clients are handed
in, as an app would configure them from its settings: in production they point at the real
services, in the tests at roster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from customerio import CustomerIO


@dataclass
class Accounts:
    """What the app does when people join, sign up, pay and install its mobile app."""

    cio: CustomerIO

    def join_waitlist(self, email: str) -> None:
        """A lead: known by email only, before they have an account."""
        self.cio.identify(email, email=email, source="waitlist")

    def sign_up(self, user_id: str, email: str, plan: str = "free") -> None:
        self.cio.identify(user_id, email=email, plan=plan)
        self.cio.track(user_id, "signed_up", {"plan": plan})

    def upgrade(self, user_id: str, plan: str) -> None:
        self.cio.identify(user_id, plan=plan)
        self.cio.track(user_id, "upgraded", {"plan": plan})

    def register_device(self, user_id: str, token: str, platform: str) -> None:
        self.cio.add_device(user_id, token, platform)


@dataclass
class Analytics:
    """The same app's product analytics, sent with segment-analytics-python."""

    segment: Any  # segment.analytics.Client (untyped)

    def signed_up(self, user_id: str, email: str, anonymous_id: str | None = None) -> None:
        self.segment.identify(user_id, {"email": email}, anonymous_id=anonymous_id)
        self.segment.track(user_id, "Signed Up", {"method": "email"})

    def viewed_pricing(self, anonymous_id: str) -> None:
        self.segment.track(anonymous_id=anonymous_id, event="Pricing Viewed")

    def order(self, user_id: str, total: float) -> None:
        self.segment.track(user_id, "Order Completed", {"total": total, "currency": "EUR"})
