"""Customer.io's Track API v2 (docs/api.md §2): what Segment's Customer.io Actions destination and
customerio-python's batch() send. One operation per /entity, up to 500 KB of them per /batch."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends, Request

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import system_of, track_workspace
from roster.api.bodies import json_object, strict_mode
from roster.api.parsing import (
    device_from,
    event_from,
    identify_from,
    merge_side,
    object_key,
    person_reference,
)
from roster.domain.errors import InvalidInput, RosterError
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.limits import check_attributes
from roster.domain.operations import (
    DeleteDevice,
    DeleteObject,
    DeletePerson,
    IdentifyObject,
    Merge,
    Operation,
    Relate,
    Related,
    Suppress,
    Unsuppress,
    WorkspaceActivity,
)
from roster.domain.times import read_timestamp
from roster.services.ingestion import Message

router = doors.router("track_v2", tags=["Track API v2"])
DOOR = "track_v2"
OPERATION_MAX_BYTES = 32 * 1024
BATCH_MAX_BYTES = 500 * 1024


def _object_of(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be an object", field=where)
    return value


def _relationship_list(item: dict[str, Any]) -> list[dict[str, Any]]:
    raw = item.get("cio_relationships") or []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise InvalidInput(
            "cio_relationships must be an array of objects", field="cio_relationships"
        )
    return raw


def _attributes_of(item: dict[str, Any], where: str) -> dict[str, Any]:
    attributes = _object_of(item.get(where), where)
    check_attributes(attributes)
    return attributes


def _people_related(item: dict[str, Any], mode: IdentifierMode) -> tuple[Related, ...]:
    related = []
    for index, rel in enumerate(_relationship_list(item)):
        where = f"cio_relationships[{index}]"
        ref = person_reference(rel.get("identifiers"), mode, f"{where}.identifiers")
        related.append(Related(ref, _attributes_of(rel, "relationship_attributes")))
    return tuple(related)


def _person(item: dict[str, Any], action: str, mode: IdentifierMode) -> list[Operation]:
    if action == "merge":
        return [Merge(merge_side(item, "primary", mode), merge_side(item, "secondary", mode))]
    ref = person_reference(item.get("identifiers"), mode)
    attributes = _object_of(item.get("attributes"), "attributes")
    timestamp = read_timestamp(item.get("timestamp"))  # what does not parse is ignored
    match action:
        case "identify":
            body = dict(attributes)
            if timestamp is not None:
                body["_timestamp"] = timestamp
            if "cio_relationships" in item:
                body["cio_relationships"] = item["cio_relationships"]
            if isinstance(ref, Reference) and ref.kind == "anonymous_id":
                body.pop("anonymous_id", None)
            return [identify_from(ref, body, mode)]
        case "event" | "page" | "screen" | "viewed_content" | "clicked_content":
            name = item.get("name") or (action if action.endswith("_content") else None)
            event = {
                "name": name,
                "type": action if action in ("page", "screen") else "event",
                "id": item.get("id"),
                "data": {k: v for k, v in attributes.items() if k != "anonymous_id"},
                "timestamp": timestamp,
                "anonymous_id": attributes.get("anonymous_id"),
            }
            return [event_from(ref, event)]
        case "delete":
            return [DeletePerson(ref)]
        case "suppress":
            return [Suppress(ref)]
        case "unsuppress":
            return [Unsuppress(ref)]
        case "add_device":
            return [device_from(ref, {"device": item.get("device")})]
        case "delete_device":
            device = _object_of(item.get("device"), "device")
            token = device.get("token", device.get("id"))
            if not isinstance(token, str) or not token:
                raise InvalidInput("device.token is required", field="device.token")
            return [DeleteDevice(ref, token)]
        case "add_relationships" | "delete_relationships":
            ops: list[Operation] = []
            for index, rel in enumerate(_relationship_list(item)):
                key = object_key(rel.get("identifiers"), f"cio_relationships[{index}].identifiers")
                attrs = _attributes_of(rel, "relationship_attributes")
                ops.append(Relate(key, (Related(ref, attrs),), action == "delete_relationships"))
            if not ops:
                raise InvalidInput("cio_relationships is required", field="cio_relationships")
            return ops
    raise InvalidInput(f"unknown person action '{action}'", field="action")


def _object(item: dict[str, Any], action: str, mode: IdentifierMode) -> list[Operation]:
    key = object_key(item.get("identifiers"))
    match action:
        case "identify" | "identify_anonymous":
            attributes = _attributes_of(item, "attributes")
            attributes.pop("anonymous_id", None)  # Segment sends it; it is no object attribute
            return [IdentifyObject(key, attributes, _people_related(item, mode))]
        case "delete":
            return [DeleteObject(key)]
        case "add_relationships" | "delete_relationships":
            related = _people_related(item, mode)
            if not related:
                raise InvalidInput("cio_relationships is required", field="cio_relationships")
            return [Relate(key, related, action == "delete_relationships")]
    raise InvalidInput(f"unknown object action '{action}'", field="action")


def _delivery(item: dict[str, Any], action: str) -> Operation:
    """A delivery metric: `event` only, for the delivery `identifiers.id`, the metric `name`."""
    if action != "event":
        raise InvalidInput(f"a delivery's action must be event, not '{action}'", field="action")
    identifiers = _object_of(item.get("identifiers"), "identifiers")
    delivery_id = identifiers.get("id")
    if not isinstance(delivery_id, str) or not delivery_id:
        raise InvalidInput(
            "identifiers.id (the delivery id) is required and must be a string",
            field="identifiers.id",
        )
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput("name (the metric) is required and must be a string", field="name")
    return WorkspaceActivity("delivery_event", name, item)


def operations_from(item: Any, mode: IdentifierMode) -> list[Operation]:
    """One v2 operation, read into domain operations (several for multi-object relationships)."""
    if not isinstance(item, dict):
        raise InvalidInput("an operation must be a JSON object")
    type_, action = item.get("type"), item.get("action")
    if not isinstance(action, str) or not action:
        raise InvalidInput("action is required", field="action")
    match type_:
        case "person":
            return _person(item, action, mode)
        case "object":
            return _object(item, action, mode)
        case "delivery":
            return [_delivery(item, action)]
    raise InvalidInput("type must be person, object or delivery", field="type")


def _message(ops: list[Operation], item: dict[str, Any]) -> Message:
    event_id = item.get("id") if isinstance(item.get("id"), str) else None
    return Message(ops[0], f"{item.get('type')}.{item.get('action')}", event_id, tuple(ops[1:]))


@router.post(
    "/api/v2/entity",
    summary="One person, object or delivery operation",
    openapi_extra=schemas.body(schemas.V2_OPERATION),
)
async def entity(request: Request, workspace_id: int = Depends(track_workspace)) -> JsonAnswer:
    body = await json_object(request, limit=OPERATION_MAX_BYTES)
    system = system_of(request)
    ops = operations_from(body, system.workspaces.mode(workspace_id))
    await system.ingestion.apply(workspace_id, [_message(ops, body)], DOOR, strict_mode(request))
    return JsonAnswer({})


def _item_error(index: int, error: RosterError) -> dict[str, Any]:
    field = getattr(error, "field", None)
    reason = "invalid" if isinstance(error, InvalidInput) else type(error).__name__.lower()
    return {"batch_index": index, "reason": reason, "field": field, "message": error.message}


@router.post(
    "/api/v2/batch",
    summary="Many operations: valid ones applied, bad ones answered 207",
    openapi_extra=schemas.body(schemas.V2_BATCH),
)
async def batch(request: Request, workspace_id: int = Depends(track_workspace)) -> JsonAnswer:
    body = await json_object(request, limit=BATCH_MAX_BYTES)
    items = body.get("batch")
    if not isinstance(items, list):
        raise InvalidInput("batch must be an array of operations", field="batch")
    system = system_of(request)
    mode = system.workspaces.mode(workspace_id)
    errors: list[dict[str, Any]] = []
    messages: list[Message] = []
    positions: list[int] = []
    for index, item in enumerate(items):
        try:
            if len(orjson.dumps(item)) > OPERATION_MAX_BYTES:
                raise InvalidInput(
                    f"an operation cannot be larger than {OPERATION_MAX_BYTES} bytes"
                )
            messages.append(_message(operations_from(item, mode), item))
            positions.append(index)
        except RosterError as error:
            errors.append(_item_error(index, error))
    if messages:
        results = await system.ingestion.apply(
            workspace_id, messages, DOOR, strict_mode(request), isolate=True
        )
        errors += [
            _item_error(index, result)
            for index, result in zip(positions, results, strict=True)
            if isinstance(result, RosterError)
        ]
    if errors:
        errors.sort(key=lambda error: int(error["batch_index"]))
        return JsonAnswer({"errors": errors}, status_code=207)
    return JsonAnswer({})
