"""Customer.io's Track API v1 (docs/api.md §1): customerio-python, customerio-node, the SDKs."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import system_of, track_workspace
from roster.api.bodies import json_object, strict_mode
from roster.api.parsing import (
    anonymous_event_from,
    device_from,
    event_from,
    identify_from,
    merge_side,
)
from roster.api.paths import segment
from roster.domain.errors import InvalidInput
from roster.domain.identifiers import IdentifierMode, read_reference
from roster.domain.limits import (
    serialised_size,
)
from roster.domain.operations import (
    DeleteDevice,
    DeletePerson,
    Merge,
    Operation,
    Ref,
    Suppress,
    Unsuppress,
    WorkspaceActivity,
)
from roster.services.ingestion import Message

router = doors.router("track_v1", tags=["Track API v1"])
DOOR = "track_v1"
OK: dict[str, Any] = {}

Workspace = Depends(track_workspace)


async def _apply(request: Request, workspace_id: int, op: Operation, type_: str) -> JsonAnswer:
    system = system_of(request)
    await system.ingestion.one(workspace_id, Message(op, type_), DOOR, strict_mode(request))
    return JsonAnswer(OK)


def _mode(request: Request, workspace_id: int) -> IdentifierMode:
    return system_of(request).workspaces.mode(workspace_id)


def _ref(request: Request, workspace_id: int, raw: str) -> Ref:
    return read_reference(segment(raw), _mode(request, workspace_id))


@router.put(
    "/api/v1/customers/{ref}",
    summary="Identify a person (create or update)",
    openapi_extra=schemas.body(schemas.TRACK_IDENTIFY, required=False),
)
async def identify(request: Request, ref: str, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request, required=False)
    mode = _mode(request, workspace_id)
    op = identify_from(read_reference(segment(ref), mode), body, mode)
    return await _apply(request, workspace_id, op, "identify")


@router.delete("/api/v1/customers/{ref}", summary="Delete a person")
async def delete(request: Request, ref: str, workspace_id: int = Workspace) -> JsonAnswer:
    return await _apply(
        request, workspace_id, DeletePerson(_ref(request, workspace_id, ref)), "delete"
    )


@router.post(
    "/api/v1/customers/{ref}/events",
    summary="Track an event, page or screen",
    openapi_extra=schemas.body(schemas.TRACK_EVENT),
)
async def event(request: Request, ref: str, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request)
    op = event_from(_ref(request, workspace_id, ref), body)
    return await _apply(request, workspace_id, op, op.type)


@router.post(
    "/api/v1/events",
    summary="Track an anonymous event (or an invite event)",
    openapi_extra=schemas.body(schemas.TRACK_EVENT),
)
async def anonymous_event(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request)
    return await _apply(request, workspace_id, anonymous_event_from(body), "track")


@router.put(
    "/api/v1/customers/{ref}/devices",
    summary="Add or update a device",
    openapi_extra=schemas.body(schemas.TRACK_DEVICE),
)
async def add_device(request: Request, ref: str, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request)
    op = device_from(_ref(request, workspace_id, ref), body)
    return await _apply(request, workspace_id, op, "add_device")


@router.delete("/api/v1/customers/{ref}/devices/{token}", summary="Delete a device")
async def delete_device(
    request: Request, ref: str, token: str, workspace_id: int = Workspace
) -> JsonAnswer:
    op = DeleteDevice(_ref(request, workspace_id, ref), segment(token))
    return await _apply(request, workspace_id, op, "delete_device")


@router.post("/api/v1/customers/{ref}/suppress", summary="Suppress: delete and block a person")
async def suppress(request: Request, ref: str, workspace_id: int = Workspace) -> JsonAnswer:
    return await _apply(
        request, workspace_id, Suppress(_ref(request, workspace_id, ref)), "suppress"
    )


@router.post("/api/v1/customers/{ref}/unsuppress", summary="Lift a suppression")
async def unsuppress(request: Request, ref: str, workspace_id: int = Workspace) -> JsonAnswer:
    op = Unsuppress(_ref(request, workspace_id, ref))
    return await _apply(request, workspace_id, op, "unsuppress")


@router.post(
    "/api/v1/merge_customers", summary="Merge two people", openapi_extra=schemas.body(schemas.MERGE)
)
async def merge(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request)
    mode = _mode(request, workspace_id)
    op = Merge(merge_side(body, "primary", mode), merge_side(body, "secondary", mode))
    return await _apply(request, workspace_id, op, "merge")


async def _metric(request: Request, workspace_id: int, kind: str, name_key: str) -> JsonAnswer:
    body = await json_object(request)
    if serialised_size(body) > 100_000:
        raise InvalidInput("a metric body cannot be longer than 100000 bytes")
    for key in ("delivery_id", name_key):
        if body.get(key) in (None, ""):
            raise InvalidInput(f"{key} is required", field=key)
        if not isinstance(body[key], str):
            raise InvalidInput(f"{key} must be a string", field=key)
    op = WorkspaceActivity(kind, body[name_key], body)
    return await _apply(request, workspace_id, op, kind)


@router.post(
    "/api/v1/metrics",
    summary="Report a delivery metric (recorded as activity)",
    openapi_extra=schemas.body(schemas.METRIC),
)
async def metrics(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    # Customer.io's metrics: {delivery_id, metric, timestamp?, recipient?, reason?, href?}
    return await _metric(request, workspace_id, "metric", "metric")


@router.post(
    "/api/v1/push/events",
    summary="Report a push metric (recorded as activity)",
    openapi_extra=schemas.body(schemas.PUSH_METRIC),
)
async def push_events(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    # Customer.io's push metrics: {delivery_id, event, device_id?, timestamp?}
    return await _metric(request, workspace_id, "push_metric", "event")


@router.get("/api/v1/accounts/region", summary="Where this workspace's API lives")
async def region(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    return JsonAnswer(
        {"url": request.app.state.public_url, "region": "us", "environment_id": workspace_id}
    )


@router.get("/auth", summary="Check Track API credentials")
async def auth(workspace_id: int = Workspace) -> JsonAnswer:
    return JsonAnswer({"meta": {"message": "Authorized"}})
