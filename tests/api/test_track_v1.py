"""Track API v1 in process, on SQLite and PostgreSQL: answers, shapes, and what they store."""

from __future__ import annotations

import pytest

from roster.domain.identifiers import IdentifierMode
from roster.services.system import System
from tests.api.calls import activities, assert_error, customer, ingestion_log
from tests.api.stored import footprint


def test_identify_answers_empty_object_and_stores_attributes(client, track, app_key):
    answer = client.put(
        "/api/v1/customers/ada-1", json={"email": "ada@example.com", "plan": "pro"}, headers=track
    )
    assert answer.status_code == 200
    assert answer.json() == {}
    found = customer(client, app_key, "ada-1")
    assert found["identifiers"]["email"] == "ada@example.com"
    assert found["attributes"]["plan"] == "pro"
    assert len(found["identifiers"]["cio_id"]) == 12


def test_values_come_back_as_strings_like_customer_io(client, track, app_key):
    client.put(
        "/api/v1/customers/u1",
        json={"age": 42, "vip": True, "tags": ["a", "b"], "ratio": 0.5, "unsubscribed": "TRUE"},
        headers=track,
    )
    found = customer(client, app_key, "u1")
    assert found["attributes"]["age"] == "42"
    assert found["attributes"]["vip"] == "true"
    assert found["attributes"]["tags"] == '["a","b"]'
    assert found["attributes"]["ratio"] == "0.5"
    assert found["unsubscribed"] is True


def test_over_limit_value_gets_customer_io_error_shape_and_writes_nothing(client, track, app_key):
    answer = client.put("/api/v1/customers/u2", json={"plan": "x" * 1001}, headers=track)
    assert answer.status_code == 400
    body = answer.json()
    assert body["meta"]["errors"] == ["value for attribute 'plan' cannot be longer than 1000 bytes"]
    assert body["code"] == "invalid_request"
    assert "plan" in body["message"]
    assert client.get("/v1/customers/u2/attributes", headers=app_key).status_code == 404


def test_wrong_credentials_get_401_with_code_and_message(client, workspace):
    answer = client.put("/api/v1/customers/u1", json={}, headers={"Authorization": "Basic eDp5"})
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "unauthorized",
        "message": "Unauthorized request",
        "meta": {"error": "Unauthorized request"},
    }


def test_auth_endpoint_tells_valid_from_invalid_credentials(client, track):
    assert client.get("/auth", headers=track).status_code == 200
    assert client.get("/auth").status_code == 401


def test_region_answer_names_public_url_and_workspace(client, track, workspace):
    answer = client.get("/api/v1/accounts/region", headers=track)
    assert answer.json() == {
        "url": "http://roster.test",
        "region": "us",
        "environment_id": workspace["workspace_id"],
    }


def test_event_with_same_id_twice_is_stored_once(client, track, app_key):
    for _ in range(2):
        answer = client.post(
            "/api/v1/customers/u3/events",
            json={"name": "purchase", "id": "evt-1", "data": {"total": 9}},
            headers=track,
        )
        assert answer.status_code == 200
    activities = client.get("/v1/customers/u3/activities?type=event", headers=app_key).json()
    assert [a["name"] for a in activities["activities"]] == ["purchase"]
    assert activities["activities"][0]["data"] == {"total": 9}


def test_anonymous_event_without_anonymous_id_or_recipient_is_refused(client, track):
    answer = client.post("/api/v1/events", json={"name": "visit"}, headers=track)
    assert answer.status_code == 400
    assert "anonymous_id" in answer.json()["meta"]["errors"][0]


def test_invite_event_with_recipient_is_accepted(client, track):
    answer = client.post(
        "/api/v1/events",
        json={"name": "invite", "data": {"recipient": "friend@example.com"}},
        headers=track,
    )
    assert answer.status_code == 200


def test_strict_mode_conflict_answers_409_naming_both_people(client, track, app_key):
    client.put("/api/v1/customers/a", json={"email": "a@example.com"}, headers=track)
    client.put("/api/v1/customers/b", json={"email": "b@example.com"}, headers=track)
    a = customer(client, app_key, "a")["identifiers"]["cio_id"]
    b = customer(client, app_key, "b")["identifiers"]["cio_id"]
    answer = client.put(
        f"/api/v1/customers/cio_{a}",
        json={"email": "b@example.com", "plan": "pro"},
        headers={**track, "X-Strict-Mode": "1"},
    )
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "conflict"
    assert body["conflicts"] == [
        {
            "identifier": "email",
            "value": "b@example.com",
            "held_by": f"cio_{b}",
            "wanted_by": f"cio_{a}",
        }
    ]
    assert "plan" not in customer(client, app_key, "a")["attributes"]


def test_conflict_without_strict_mode_succeeds_and_logs_failed_change(client, track, app_key):
    client.put("/api/v1/customers/a", json={"email": "a@example.com"}, headers=track)
    client.put("/api/v1/customers/b", json={"email": "b@example.com"}, headers=track)
    a = customer(client, app_key, "a")["identifiers"]["cio_id"]
    answer = client.put(
        f"/api/v1/customers/cio_{a}", json={"email": "b@example.com", "plan": "pro"}, headers=track
    )
    assert answer.status_code == 200
    found = customer(client, app_key, "a")
    assert found["identifiers"]["email"] == "a@example.com"
    assert found["attributes"]["plan"] == "pro"
    log = client.get("/v1/customers/a/activities?type=failed_attribute_change", headers=app_key)
    assert log.json()["activities"][0]["data"]["reason"] == (
        "The identifier is already associated with a different profile."
    )


def test_merge_customers_bad_body_gets_merge_error_shape(client, track):
    answer = client.post(
        "/api/v1/merge_customers", json={"primary": {"id": "a", "email": "x"}}, headers=track
    )
    assert answer.status_code == 400
    assert "primary" in answer.json()["meta"]["error"]


def test_merge_of_missing_person_is_success_and_logged(client, track, workspace, system):
    client.put("/api/v1/customers/a", json={}, headers=track)
    answer = client.post(
        "/api/v1/merge_customers",
        json={"primary": {"id": "a"}, "secondary": {"id": "nobody"}},
        headers=track,
    )
    assert answer.status_code == 200
    log, _ = system.lookups.ingestion_log(workspace["workspace_id"], "", 10)
    assert any("merge refused" in entry["reason"] for entry in log)


def test_merge_moves_events_and_deletes_secondary(client, track, app_key):
    client.put("/api/v1/customers/p", json={"plan": "pro"}, headers=track)
    client.put("/api/v1/customers/s", json={"plan": "free", "city": "Oslo"}, headers=track)
    client.post("/api/v1/customers/s/events", json={"name": "clicked"}, headers=track)
    answer = client.post(
        "/api/v1/merge_customers",
        json={"primary": {"id": "p"}, "secondary": {"id": "s"}},
        headers=track,
    )
    assert answer.status_code == 200
    found = customer(client, app_key, "p")
    assert found["attributes"]["plan"] == "pro"
    assert found["attributes"]["city"] == "Oslo"
    assert client.get("/v1/customers/s/attributes", headers=app_key).status_code == 404
    events = client.get("/v1/customers/p/activities?type=event", headers=app_key).json()
    assert [a["name"] for a in events["activities"]] == ["clicked"]


def test_delete_leaves_only_a_profile_delete_entry(client, track, app_key):
    client.put("/api/v1/customers/gone", json={"email": "gone@example.com"}, headers=track)
    cio_id = customer(client, app_key, "gone")["identifiers"]["cio_id"]
    assert client.delete("/api/v1/customers/gone", headers=track).status_code == 200
    assert client.get("/v1/customers/gone/attributes", headers=app_key).status_code == 404
    left = client.get(f"/v1/customers/cio_{cio_id}/activities?deleted=true", headers=app_key)
    assert [a["type"] for a in left.json()["activities"]] == ["profile_delete"]
    assert "gone@example.com" not in left.text


def test_devices_are_listed_in_the_attributes_answer(client, track, app_key):
    answer = client.put(
        "/api/v1/customers/u4/devices",
        json={"device": {"id": "tok-1", "platform": "ios", "app_version": "1.2"}},
        headers=track,
    )
    assert answer.status_code == 200
    devices = customer(client, app_key, "u4")["devices"]
    assert devices[0]["id"] == "tok-1"
    assert devices[0]["platform"] == "ios"
    assert devices[0]["attributes"] == {"app_version": "1.2"}
    client.delete("/api/v1/customers/u4/devices/tok-1", headers=track)
    assert customer(client, app_key, "u4")["devices"] == []


def test_metrics_are_accepted_and_validated(client, track):
    ok = client.post(
        "/api/v1/metrics",
        json={"delivery_id": "d1", "metric": "opened", "timestamp": 1700000000},
        headers=track,
    )
    assert ok.status_code == 200
    bad = client.post("/api/v1/metrics", json={"metric": "opened"}, headers=track)
    assert bad.status_code == 400
    assert bad.json()["meta"]["errors"] == ["delivery_id is required"]


def test_unknown_endpoint_is_404_in_the_doors_shape(client, track):
    answer = client.get("/api/v1/nothing-here", headers=track)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert "meta" in answer.json()


def test_noop_endpoint_parses_like_identify_and_writes_nothing(client, track, app_key):
    assert client.put("/bench/noop/n1", json={"plan": "x"}, headers=track).status_code == 200
    assert client.put("/bench/noop/n1", json={"plan": "x" * 1001}, headers=track).status_code == 400
    assert client.get("/v1/customers/n1/attributes", headers=app_key).status_code == 404


def test_health_and_readiness(client, system: System):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["writer"]["alive"] is True
    assert "roster_write_requests_total" in client.get("/metrics").text


# -- what a body means: the one parser (roster.api.parsing) the identity-rule tests build with --


def _cio(client, app_key, ref: str) -> str:
    return str(customer(client, app_key, ref)["identifiers"]["cio_id"])


@pytest.mark.parametrize("blank", [None, "", "   "], ids=["null", "empty", "spaces"])
def test_i5_6_a_blank_identifier_through_a_cio_reference_removes_it(client, track, app_key, blank):
    client.put("/api/v1/customers/rm-1", json={"email": "rm-1@example.com"}, headers=track)
    cio_id = _cio(client, app_key, "rm-1")

    for key in ("email", "id"):
        answer = client.put(f"/api/v1/customers/cio_{cio_id}", json={key: blank}, headers=track)
        assert answer.status_code == 200, answer.text

    assert customer(client, app_key, cio_id, "cio_id")["identifiers"] == {
        "id": None,
        "email": None,
        "cio_id": cio_id,
    }


def test_i5_6_an_id_of_only_spaces_through_an_id_reference_is_refused_as_a_removal(
    client, track, app_key
):
    client.put("/api/v1/customers/rm-2", json={}, headers=track)

    assert client.put("/api/v1/customers/rm-2", json={"id": "  "}, headers=track).json() == {}

    assert customer(client, app_key, "rm-2")["identifiers"]["id"] == "rm-2"
    (failed,) = activities(client, app_key, "rm-2", "failed_attribute_change")
    assert "can only be removed through a cio_ reference" in failed["data"]["reason"]


def test_i1_6_a_path_reference_of_only_spaces_is_not_given_and_creates_nobody(
    client, track, app_key, system, workspace
):
    answer = client.put("/api/v1/customers/%20%20", json={"plan": "blank"}, headers=track)

    assert (answer.status_code, answer.json()) == (200, {})
    assert footprint(system, workspace["workspace_id"])["people"] == 0
    assert any("no usable id or email" in e["reason"] for e in ingestion_log(client, app_key))


def test_i1_6_an_anonymous_event_whose_anonymous_id_is_only_spaces_has_none(client, track):
    answer = client.post(
        "/api/v1/events", json={"name": "visit", "anonymous_id": "   "}, headers=track
    )

    assert_error(answer, 400, says="needs anonymous_id", meta="errors")


def test_i1_6_an_anonymous_event_with_a_blocked_anonymous_id_is_200_logged_and_not_stored(
    client, track, app_key, system, workspace
):
    answer = client.post(
        "/api/v1/events", json={"name": "visit", "anonymous_id": "undefined"}, headers=track
    )

    assert (answer.status_code, answer.json()) == (200, {})
    assert any("blocked" in e["reason"] for e in ingestion_log(client, app_key))
    client.put("/api/v1/customers/undefined-visitor", json={"anonymous_id": "x-1"}, headers=track)
    assert activities(client, app_key, "undefined-visitor", "event") == []


@pytest.mark.parametrize("update", ["true", "false", 1, 0, [], {}])
def test_i3_5_an_update_flag_that_is_not_a_boolean_is_a_400_and_creates_nobody(
    client, track, app_key, update
):
    answer = client.put(
        "/api/v1/customers/upd-1", json={"_update": update, "plan": "x"}, headers=track
    )

    assert_error(answer, 400, says="_update must be true or false", meta="errors")
    assert customer(client, app_key, "upd-1") is None


def test_i3_5_an_update_flag_of_null_is_absent_and_the_call_creates(client, track, app_key):
    answer = client.put(
        "/api/v1/customers/upd-2", json={"_update": None, "plan": "x"}, headers=track
    )

    assert answer.status_code == 200, answer.text
    assert customer(client, app_key, "upd-2")["attributes"]["plan"] == "x"


@pytest.mark.parametrize("unreadable", ["soon", "", "NaN", "Infinity", True, [1700000000]])
def test_i4_8_an_unreadable_timestamp_is_a_400_and_changes_nothing(
    client, track, app_key, unreadable
):
    client.put("/api/v1/customers/ts-1", json={"plan": "before"}, headers=track)

    answer = client.put(
        "/api/v1/customers/ts-1", json={"_timestamp": unreadable, "plan": "after"}, headers=track
    )

    assert_error(answer, 400, says="_timestamp must be unix seconds", meta="errors")
    assert customer(client, app_key, "ts-1")["attributes"]["plan"] == "before"


@pytest.mark.parametrize("future", [4102444800, 1e300, "99999999999999", "2100-01-01T00:00:00Z"])
def test_i4_8_a_future_timestamp_is_clamped_to_the_time_received(client, track, app_key, future):
    client.put("/api/v1/customers/ts-2", json={"_timestamp": future, "plan": "pro"}, headers=track)

    client.put("/api/v1/customers/ts-2", json={"plan": "free"}, headers=track)

    found = customer(client, app_key, "ts-2")
    assert found["attributes"]["plan"] == "free"  # the later call without _timestamp wins
    assert found["timestamps"]["plan"] < 4102444800


def test_i4_8_a_timestamp_of_null_is_absent(client, track, app_key):
    client.put("/api/v1/customers/ts-3", json={"_timestamp": 1000, "plan": "old"}, headers=track)

    client.put("/api/v1/customers/ts-3", json={"_timestamp": None, "plan": "new"}, headers=track)

    assert customer(client, app_key, "ts-3")["attributes"]["plan"] == "new"


MERGE_SIDES_REFUSED = {
    "a blocked id": ({"id": "undefined"}, "must not be empty"),
    "an id of only spaces": ({"id": "   "}, "must not be empty"),
    "an anonymous id": ({"anonymous_id": "anon-1"}, "not 'anonymous_id'"),
    "two identifiers": ({"id": "a", "email": "a@example.com"}, "exactly one"),
}


@pytest.mark.parametrize(
    ("side", "says"), MERGE_SIDES_REFUSED.values(), ids=MERGE_SIDES_REFUSED.keys()
)
def test_i6_1_a_merge_side_that_names_nobody_is_a_400_in_the_merge_shape(
    client, track, app_key, side, says
):
    client.put("/api/v1/customers/mg-1", json={"plan": "pro"}, headers=track)

    answer = client.post(
        "/api/v1/merge_customers",
        json={"primary": {"id": "mg-1"}, "secondary": side},
        headers=track,
    )

    assert_error(answer, 400, says=says, meta="error")
    assert customer(client, app_key, "mg-1")["attributes"]["plan"] == "pro"


def test_i1_4_a_merge_side_given_by_email_in_id_only_is_a_400_in_the_merge_shape(
    client, system, track, workspace
):
    system.workspaces.change_settings(
        workspace["workspace_id"], identifier_mode=IdentifierMode.ID_ONLY.value
    )

    answer = client.post(
        "/api/v1/merge_customers",
        json={"primary": {"id": "a"}, "secondary": {"email": "b@example.com"}},
        headers=track,
    )

    assert_error(answer, 400, says="email is not an identifier in this workspace", meta="error")


def test_i7_4_an_events_data_never_keeps_an_anonymous_id(client, track, app_key):
    client.post(
        "/api/v1/customers/ev-1/events",
        json={"name": "clicked", "data": {"anonymous_id": "anon-9", "button": "buy"}},
        headers=track,
    )

    (clicked,) = activities(client, app_key, "ev-1", "event")
    assert clicked["data"] == {"button": "buy"}


def test_i8_relationship_without_an_object_type_id_relates_to_type_1(client, track, app_key):
    client.put(
        "/api/v1/customers/rel-1",
        json={"cio_relationships": [{"identifiers": {"object_id": "acme"}}]},
        headers=track,
    )

    found = customer(client, app_key, "rel-1")
    assert found["relationships"] == [
        {"object_type_id": "1", "object_id": "acme", "attributes": {}}
    ]
