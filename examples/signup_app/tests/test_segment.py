"""What the app sends to Segment, checked in roster: segment-analytics-python, sending every call
before it returns."""

from __future__ import annotations

from signup_app.accounts import Analytics


def test_an_anonymous_visitor_who_signs_up_keeps_their_history(roster):
    analytics = Analytics(roster.segment())

    analytics.viewed_pricing(anonymous_id="visitor-7")
    analytics.signed_up("ada-1", "ada@example.com", anonymous_id="visitor-7")

    ada = roster.person("ada-1")
    assert ada.email == "ada@example.com"
    assert "visitor-7" in ada.anonymous_ids
    assert [e.name for e in roster.events("ada-1")] == ["Pricing Viewed", "Signed Up"]


def test_an_order_is_one_event_with_its_properties(roster):
    analytics = Analytics(roster.segment())
    analytics.signed_up("ada-1", "ada@example.com")

    analytics.order("ada-1", 42.5)

    orders = [e for e in roster.events("ada-1") if e.name == "Order Completed"]
    assert [o.data for o in orders] == [{"total": 42.5, "currency": "EUR"}]


def test_a_message_roster_cannot_use_is_in_the_ingestion_log(roster):
    client = roster.segment()

    client.track("ada-1", "")  # no event name: Segment's API answers 200 and sets it aside

    (entry,) = roster.ingestion_log()
    assert (entry.door, entry.type) == ("segment", "track")
    assert "name" in entry.reason
    assert roster.find_person("ada-1") is None
