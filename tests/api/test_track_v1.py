"""Track API v1 in process, on SQLite and PostgreSQL: answers, shapes, and what they store."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from roster.services.system import System


def attributes(client: TestClient, app_key: dict[str, str], ref: str, id_type: str = "id") -> Any:
    answer = client.get(f"/v1/customers/{ref}/attributes?id_type={id_type}", headers=app_key)
    return answer.json()["customer"] if answer.status_code == 200 else answer


def test_identify_answers_empty_object_and_stores_attributes(client, track, app_key):
    answer = client.put(
        "/api/v1/customers/ada-1", json={"email": "ada@example.com", "plan": "pro"}, headers=track
    )
    assert answer.status_code == 200
    assert answer.json() == {}
    customer = attributes(client, app_key, "ada-1")
    assert customer["identifiers"]["email"] == "ada@example.com"
    assert customer["attributes"]["plan"] == "pro"
    assert len(customer["identifiers"]["cio_id"]) == 12


def test_values_come_back_as_strings_like_customer_io(client, track, app_key):
    client.put(
        "/api/v1/customers/u1",
        json={"age": 42, "vip": True, "tags": ["a", "b"], "ratio": 0.5, "unsubscribed": "TRUE"},
        headers=track,
    )
    customer = attributes(client, app_key, "u1")
    assert customer["attributes"]["age"] == "42"
    assert customer["attributes"]["vip"] == "true"
    assert customer["attributes"]["tags"] == '["a","b"]'
    assert customer["attributes"]["ratio"] == "0.5"
    assert customer["unsubscribed"] is True


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
    a = attributes(client, app_key, "a")["identifiers"]["cio_id"]
    b = attributes(client, app_key, "b")["identifiers"]["cio_id"]
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
    assert "plan" not in attributes(client, app_key, "a")["attributes"]


def test_conflict_without_strict_mode_succeeds_and_logs_failed_change(client, track, app_key):
    client.put("/api/v1/customers/a", json={"email": "a@example.com"}, headers=track)
    client.put("/api/v1/customers/b", json={"email": "b@example.com"}, headers=track)
    a = attributes(client, app_key, "a")["identifiers"]["cio_id"]
    answer = client.put(
        f"/api/v1/customers/cio_{a}", json={"email": "b@example.com", "plan": "pro"}, headers=track
    )
    assert answer.status_code == 200
    customer = attributes(client, app_key, "a")
    assert customer["identifiers"]["email"] == "a@example.com"
    assert customer["attributes"]["plan"] == "pro"
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
    log = system.lookups.ingestion_log(workspace["workspace_id"], None, 10)
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
    customer = attributes(client, app_key, "p")
    assert customer["attributes"]["plan"] == "pro"
    assert customer["attributes"]["city"] == "Oslo"
    assert client.get("/v1/customers/s/attributes", headers=app_key).status_code == 404
    events = client.get("/v1/customers/p/activities?type=event", headers=app_key).json()
    assert [a["name"] for a in events["activities"]] == ["clicked"]


def test_delete_leaves_only_a_profile_delete_entry(client, track, app_key):
    client.put("/api/v1/customers/gone", json={"email": "gone@example.com"}, headers=track)
    cio_id = attributes(client, app_key, "gone")["identifiers"]["cio_id"]
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
    devices = attributes(client, app_key, "u4")["devices"]
    assert devices[0]["id"] == "tok-1"
    assert devices[0]["platform"] == "ios"
    assert devices[0]["attributes"] == {"app_version": "1.2"}
    client.delete("/api/v1/customers/u4/devices/tok-1", headers=track)
    assert attributes(client, app_key, "u4")["devices"] == []


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
    assert client.get("/readyz").json() == {"status": "ready"}
    assert "roster_write_requests_total" in client.get("/metrics").text
