"""customerio-python, unmodified, against a real `roster serve --tls-self-signed`
(docs/api.md §1, §7).

The client speaks HTTPS only, so roster serves TLS with its self-signed certificate and the
client trusts it through REQUESTS_CA_BUNDLE. Every Track method of the client is driven; results
are checked through the App API, not only through status codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from customerio import CustomerIO, CustomerIOException

from tests.server import AppApi, RunningRoster

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def roster(tls_roster: RunningRoster) -> RunningRoster:
    """The HTTPS roster of tests/api/conftest.py (customerio-python speaks HTTPS only)."""
    return tls_roster


def refused(call: Callable[[], object]) -> str:
    """The message of the CustomerIOException that `call` raises. (Not pytest.raises: the
    traceback it keeps holds the client's open HTTP connection in a reference cycle, and the
    server's graceful stop would wait for that connection.)"""
    try:
        call()
    except CustomerIOException as error:
        return str(error)
    raise AssertionError("the client did not raise CustomerIOException")


def names(activities: list[dict[str, Any]], type_: str) -> list[str]:
    return [a["name"] for a in activities if a["type"] == type_]


def test_the_client_reaches_roster_over_https_with_the_self_signed_certificate(
    roster: RunningRoster, cio: CustomerIO, app: AppApi, uid: str
) -> None:
    assert roster.base_url.startswith("https://")
    assert cio.base_url == f"https://127.0.0.1:{roster.port}/api/v1"

    response = cio.identify(uid)

    assert response.status_code == 200
    assert response.json() == {}
    assert app.must(uid)["identifiers"]["id"] == uid


def test_the_client_refuses_roster_when_it_does_not_trust_the_certificate(
    roster: RunningRoster, app: AppApi, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with CustomerIO(
        roster.site_id, roster.track_api_key, host="127.0.0.1", port=roster.port, retries=0
    ) as client:
        message = refused(lambda: client.identify(uid))

    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert app.customer(uid) is None


def test_identify_creates_a_new_person_with_the_attributes_it_sends(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    email = f"{uid}@example.com"

    cio.identify(
        uid, email=email, plan="pro", seats=3, trial=True, tags=["a", "b"], created_at=1700000000
    )

    person = app.must(uid)
    cio_id = person["identifiers"]["cio_id"]
    assert person["identifiers"] == {"id": uid, "email": email, "cio_id": cio_id}
    assert person["attributes"]["plan"] == "pro"
    assert person["attributes"]["seats"] == "3"
    assert person["attributes"]["trial"] == "true"
    assert person["attributes"]["tags"] == '["a","b"]'
    assert person["attributes"]["created_at"] == "1700000000"
    assert person["unsubscribed"] is False
    assert app.must(email, "email")["identifiers"]["cio_id"] == cio_id
    assert app.must(cio_id, "cio_id")["identifiers"]["id"] == uid
    assert names(app.activities(uid), "attribute_change").count("plan") == 1
    assert [a["type"] for a in app.activities(uid, type="profile_create")] == ["profile_create"]


def test_a_lead_identified_by_email_and_then_by_id_with_that_email_stays_one_person(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    email = f"{uid}.Lead@Example.com"

    cio.identify(email, first_name="Ada")
    lead = app.must(email, "email")
    assert lead["identifiers"]["id"] is None

    cio.identify(uid, email=email.lower(), plan="basic")

    person = app.must(uid)
    assert person["identifiers"]["cio_id"] == lead["identifiers"]["cio_id"]
    assert person["attributes"]["first_name"] == "Ada"
    assert person["attributes"]["plan"] == "basic"
    assert app.with_email(email.upper()) == [person["identifiers"]]


def test_identify_again_merges_attributes_and_null_removes_one(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.identify(uid, plan="pro", city="Oslo", seats=1)

    cio.identify(uid, plan="team", city=None)

    attributes = app.must(uid)["attributes"]
    assert attributes["plan"] == "team"
    assert attributes["seats"] == "1"
    assert "city" not in attributes


def test_identify_with_unsubscribed_true_unsubscribes_and_false_resubscribes(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.identify(uid, unsubscribed=True)
    assert app.must(uid)["unsubscribed"] is True

    cio.identify(uid, unsubscribed=False)
    assert app.must(uid)["unsubscribed"] is False


def test_track_stores_each_event_without_an_event_id_with_its_name_and_data(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.identify(uid)

    cio.track(uid, "purchase", {"sku": "a-1", "amount": 12.5})
    cio.track(uid, "purchase", {"sku": "a-1", "amount": 12.5})

    events = app.events(uid)
    assert [(e["type"], e["name"], e["data"]) for e in events] == [
        ("event", "purchase", {"sku": "a-1", "amount": 12.5})
    ] * 2


def test_track_for_an_unknown_id_creates_the_person(cio: CustomerIO, app: AppApi, uid: str) -> None:
    cio.track(uid, "first_seen")

    assert names(app.events(uid), "event") == ["first_seen"]


def test_track_with_the_same_event_id_twice_stores_one_event(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    event_id = f"{uid}-event"

    cio.track(uid, "order_placed", {"n": 1}, id=event_id, timestamp=1700000100)
    cio.track(uid, "order_placed", {"n": 2}, id=event_id, timestamp=1700000200)

    events = app.events(uid)
    assert [(e["name"], e["data"], e["timestamp"]) for e in events] == [
        ("order_placed", {"n": 1}, 1700000100)
    ]


def test_track_anonymous_and_then_identify_with_that_anonymous_id_moves_the_event_to_the_person(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    anonymous_id = f"anon-{uid}"
    cio.track_anonymous(anonymous_id, "viewed_pricing", {"plan": "pro"})
    assert app.customer(uid) is None

    cio.identify(uid, anonymous_id=anonymous_id, email=f"{uid}@example.com")
    cio.track_anonymous(anonymous_id, "viewed_signup")

    person = app.must(uid)
    assert person["anonymous_ids"] == [anonymous_id]
    assert "anonymous_id" not in person["attributes"]
    events = app.events(uid)
    assert sorted(e["name"] for e in events) == ["viewed_pricing", "viewed_signup"]
    pricing = next(e for e in events if e["name"] == "viewed_pricing")
    assert pricing["data"] == {"plan": "pro"}
    assert [a["type"] for a in app.activities(uid, type="anon_merge")] == ["anon_merge"]


def test_track_anonymous_without_an_anonymous_id_but_with_a_recipient_is_an_invite(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    recipient = f"{uid}@example.com"

    response = cio.track_anonymous("", "invite_sent", {"recipient": recipient})

    assert response.status_code == 200
    assert app.with_email(recipient) == []


def test_pageview_stores_a_page_event_named_by_its_url(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.pageview(uid, "https://example.com/pricing?x=1", referrer="https://search.example")

    events = app.events(uid)
    assert [(e["type"], e["name"], e["data"]) for e in events] == [
        ("page", "https://example.com/pricing?x=1", {"referrer": "https://search.example"})
    ]


def test_backfill_stores_an_event_at_the_time_it_gives(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.backfill(uid, "signed_up", datetime(2020, 1, 1, tzinfo=UTC), source="import")
    cio.backfill(uid, "upgraded", 1600000000)

    events = {e["name"]: e for e in app.events(uid)}
    assert events["signed_up"]["timestamp"] == 1577836800
    assert events["signed_up"]["data"] == {"source": "import"}
    assert events["upgraded"]["timestamp"] == 1600000000


def test_add_device_attaches_the_device_with_its_platform_and_attributes(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    token = f"token-{uid}"

    cio.add_device(uid, token, "ios", last_used=1700000000, app_version="2.1.0")

    assert app.must(uid)["devices"] == [
        {
            "id": token,
            "platform": "ios",
            "last_used": 1700000000,
            "attributes": {"app_version": "2.1.0"},
        }
    ]
    assert names(app.activities(uid), "device_change") == [token]


def test_adding_a_device_token_to_another_person_moves_it_and_delete_device_removes_it(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    first, second, token = f"{uid}-a", f"{uid}-b", f"token/{uid}"
    cio.add_device(first, token, "ios")

    cio.add_device(second, token, "android")

    assert app.must(first)["devices"] == []
    assert [(d["id"], d["platform"]) for d in app.must(second)["devices"]] == [(token, "android")]

    cio.delete_device(second, token)

    assert app.must(second)["devices"] == []
    assert app.must(second)["identifiers"]["id"] == second


def test_suppress_deletes_the_person_and_later_identifies_with_their_id_or_email_are_ignored(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    email = f"{uid}@example.com"
    cio.identify(uid, email=email, plan="pro")
    cio_id = app.must(uid)["identifiers"]["cio_id"]

    cio.suppress(uid)

    assert app.customer(uid) is None
    assert app.customer(cio_id, "cio_id") is None
    cio.identify(uid, plan="again")
    cio.identify(email, plan="again")
    cio.track(uid, "ignored_event")
    assert app.customer(uid) is None
    assert app.with_email(email) == []


def test_unsuppress_lets_a_later_identify_create_a_new_person(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    email = f"{uid}@example.com"
    cio.identify(uid, email=email)
    old_cio_id = app.must(uid)["identifiers"]["cio_id"]
    cio.suppress(uid)

    cio.unsuppress(email)
    cio.identify(uid, plan="back")

    person = app.must(uid)
    assert person["identifiers"]["cio_id"] != old_cio_id
    assert person["identifiers"]["email"] is None  # unsuppress restores nothing
    assert person["attributes"]["plan"] == "back"
    assert app.events(uid) == []


def test_merge_customers_moves_events_devices_and_missing_attributes_and_deletes_the_secondary(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    primary, secondary_email = f"{uid}-primary", f"{uid}-secondary@example.com"
    cio.identify(primary, plan="gold")
    cio.track(primary, "primary_event")
    cio.identify(secondary_email, plan="silver", city="Oslo")
    cio.track(secondary_email, "secondary_event", {"k": "v"})
    cio.add_device(secondary_email, f"token-{uid}", "ios")
    secondary_cio_id = app.must(secondary_email, "email")["identifiers"]["cio_id"]

    cio.merge_customers("id", primary, "email", secondary_email)

    assert app.customer(secondary_cio_id, "cio_id") is None
    person = app.must(primary)
    assert person["identifiers"]["email"] == secondary_email
    assert app.must(secondary_email, "email")["identifiers"] == person["identifiers"]
    assert person["attributes"]["plan"] == "gold"
    assert person["attributes"]["city"] == "Oslo"
    assert [d["id"] for d in person["devices"]] == [f"token-{uid}"]
    events = {e["name"]: e for e in app.events(primary)}
    assert set(events) == {"primary_event", "secondary_event"}
    assert events["secondary_event"]["data"] == {"k": "v"}
    assert [a["type"] for a in app.activities(primary, type="profile_merge")] == ["profile_merge"]


def test_identify_with_the_id_of_one_person_and_the_email_of_another_merges_them(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    email = f"{uid}@example.com"
    cio.track(uid, "seen_by_id", {"n": 1})
    cio.track(email, "seen_by_email", {"n": 2})
    cio.add_device(email, f"token-{uid}", "android")
    assert (
        app.must(uid)["identifiers"]["cio_id"] != app.must(email, "email")["identifiers"]["cio_id"]
    )

    cio.identify(uid, email=email, plan="pro")

    person = app.must(uid)
    assert person["identifiers"]["email"] == email
    assert app.with_email(email) == [person["identifiers"]]
    assert sorted(e["name"] for e in app.events(uid)) == ["seen_by_email", "seen_by_id"]
    assert [d["id"] for d in person["devices"]] == [f"token-{uid}"]
    assert [a["data"]["reason"] for a in app.activities(uid, type="profile_merge")] == [
        "auto_merge"
    ]


def test_merge_customers_by_cio_id_merges_the_two_people(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.identify(f"{uid}-1", first="one")
    cio.identify(f"{uid}-2", second="two")
    one = app.must(f"{uid}-1")["identifiers"]["cio_id"]
    two = app.must(f"{uid}-2")["identifiers"]["cio_id"]

    cio.merge_customers("cio_id", one, "cio_id", two)

    assert app.customer(two, "cio_id") is None
    person = app.must(one, "cio_id")
    assert person["identifiers"]["id"] == f"{uid}-1"
    assert person["attributes"]["first"] == "one"
    assert person["attributes"]["second"] == "two"
    assert app.customer(f"{uid}-2") is None  # an id the primary could not take is freed


def test_delete_removes_the_person_and_a_later_identify_creates_a_new_one(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.identify(uid, plan="pro")
    cio.track(uid, "before_delete")
    cio_id = app.must(uid)["identifiers"]["cio_id"]

    cio.delete(uid)

    assert app.customer(uid) is None
    remaining = app.activities(f"cio_{cio_id}", deleted=True)
    assert [a["type"] for a in remaining] == ["profile_delete"]
    cio.identify(uid)
    person = app.must(uid)
    assert person["identifiers"]["cio_id"] != cio_id
    assert "plan" not in person["attributes"]
    assert app.events(uid) == []


def test_ids_that_need_percent_encoding_reach_roster_exactly_as_sent(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    odd = f"{uid} a/b+c%25ü😀"

    cio.identify(odd, plan="odd")
    cio.track(odd, "odd_event")

    person = app.must(odd)
    assert person["identifiers"]["id"] == odd
    assert names(app.events(odd), "event") == ["odd_event"]


def test_an_attribute_value_over_1000_bytes_raises_a_400_and_writes_nothing(
    cio: CustomerIO, app: AppApi, uid: str
) -> None:
    cio.identify(uid, plan="pro")

    message = refused(lambda: cio.identify(uid, plan="x" * 1001, city="Oslo"))

    assert message.startswith("400:")
    assert "value for attribute 'plan' cannot be longer than 1000 bytes" in message
    attributes = app.must(uid)["attributes"]
    assert attributes["plan"] == "pro"
    assert "city" not in attributes


def test_a_wrong_api_key_raises_a_401_and_writes_nothing(
    roster: RunningRoster, trusted: None, app: AppApi, uid: str
) -> None:
    with CustomerIO(
        roster.site_id, "not-the-key", host="127.0.0.1", port=roster.port, retries=0
    ) as client:
        message = refused(lambda: client.identify(uid, plan="pro"))

    assert message.startswith("401:")
    assert '"meta":{"error":"Unauthorized request"}' in message
    assert app.customer(uid) is None
