"""Customer.io's App API, the read side (docs/api.md §4): Bearer app_api_key."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends, Request

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.api.parsing import merge_side
from roster.api.paths import query_text, segment
from roster.domain.errors import InvalidInput, NotFound
from roster.domain.identifiers import IdentifierMode, Reference, typed_reference
from roster.domain.operations import Merge
from roster.domain.people import Activity, Person
from roster.services.hygiene import Hygiene
from roster.services.ingestion import Message
from roster.services.lookups import OBJECT_LIMIT, PersonView
from roster.services.profile import activity_after, activity_cursor

router = doors.router("app", tags=["App API"])
Workspace = Depends(app_workspace)
ID_TYPES = ("id", "email", "cio_id")
MAX_LIMIT = 1000


def _reference(raw: str, id_type: str, mode: IdentifierMode) -> Reference:
    if id_type not in ID_TYPES:
        raise InvalidInput("id_type must be one of id, email, cio_id", field="id_type")
    ref = typed_reference(id_type, raw, mode)
    if not isinstance(ref, Reference):
        raise InvalidInput(f"{id_type} '{raw}' is not usable as a reference", field=id_type)
    return ref


def _text(value: Any) -> str:
    """Customer.io answers every attribute value as a string; JSON values stringified."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return orjson.dumps(value).decode()


def identifiers_of(person: Person) -> dict[str, Any]:
    return {"id": person.id, "email": person.email, "cio_id": person.cio_id}


def customer(view: PersonView) -> dict[str, Any]:
    person = view.person
    attributes = {name: _text(value) for name, value in person.attributes.items()}
    attributes["cio_id"] = person.cio_id
    attributes["_created_in_roster_at"] = str(person.created_in_roster_at)
    if person.id is not None:
        attributes["id"] = person.id
    if person.email is not None:
        attributes["email"] = person.email
    return {
        "id": person.id,
        "identifiers": identifiers_of(person),
        "attributes": dict(sorted(attributes.items())),
        "timestamps": {name: int(at) for name, at in sorted(person.attribute_times.items())},
        "unsubscribed": person.unsubscribed,
        "devices": [
            {
                "id": device.token,
                "platform": device.platform,
                "last_used": device.last_used,
                "attributes": device.attributes,
            }
            for device in view.devices
        ],
        "anonymous_ids": view.anonymous_ids,
        "relationships": view.relationships,
    }


# The GET handlers are plain functions: FastAPI runs them in its thread pool, which suits their
# blocking database reads and keeps the event loop free for the write path.


@router.get("/v1/customers", summary="People with an email address")
def by_email(request: Request, email: str = "", workspace_id: int = Workspace) -> JsonAnswer:
    if not email.strip():
        raise InvalidInput("the email query parameter is required", field="email")
    query_text(email, "email")
    people = system_of(request).lookups.with_email(workspace_id, email)
    return JsonAnswer({"results": [identifiers_of(person) for person in people]})


@router.get("/v1/customers/{ref}/attributes", summary="A person's attributes and devices")
def attributes(
    request: Request, ref: str, id_type: str = "id", workspace_id: int = Workspace
) -> JsonAnswer:
    lookups = system_of(request).lookups
    reference = _reference(segment(ref), id_type, system_of(request).workspaces.mode(workspace_id))
    return JsonAnswer({"customer": customer(lookups.view(workspace_id, reference))})


@router.post(
    "/v1/customers/attributes",
    summary="Several people's attributes",
    openapi_extra=schemas.body(schemas.MANY_ATTRIBUTES),
)
async def many_attributes(
    request: Request, id_type: str = "id", workspace_id: int = Workspace
) -> JsonAnswer:
    body = await json_object(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or len(ids) > 100:
        raise InvalidInput("ids must be an array of 1 to 100 references", field="ids")
    lookups = system_of(request).lookups
    mode = system_of(request).workspaces.mode(workspace_id)
    found = []
    for raw in ids:
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise InvalidInput("every entry of ids must be a string", field="ids")
        try:
            found.append(customer(lookups.view(workspace_id, _reference(str(raw), id_type, mode))))
        except NotFound:
            continue  # Customer.io leaves unknown people out of the answer
    return JsonAnswer({"customers": found})


def _paging(start: str, limit: int) -> tuple[tuple[float, str, int] | None, int]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return activity_after(start), limit


def activity_answer(source: str, activity: Activity, identifiers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": f"{source}{activity.pk}",
        "timestamp": int(activity.timestamp),
        "type": activity.type,
        "customer_identifiers": identifiers,
    }
    if activity.name is not None:
        answer["name"] = activity.name
    if activity.data is not None:
        answer["data"] = activity.data
    return answer


@router.get("/v1/customers/{ref}/activities", summary="A person's activity log")
def activities(
    request: Request,
    ref: str,
    id_type: str = "id",
    type: str | None = None,
    start: str = "",
    limit: int = 50,
    deleted: bool = False,
    workspace_id: int = Workspace,
) -> JsonAnswer:
    lookups = system_of(request).lookups
    after, limit = _paging(start, limit)
    if type is not None:
        query_text(type, "type")
    raw = segment(ref)
    if raw.startswith("cio_"):
        raw, id_type = raw[4:], "cio_id"
    reference = _reference(raw, id_type, system_of(request).workspaces.mode(workspace_id))
    person, found = lookups.activities(workspace_id, reference, type, after, limit, deleted)
    identifiers = identifiers_of(person) if person else {"cio_id": reference.value}
    page = found[:limit]
    return JsonAnswer(
        {
            "activities": [activity_answer(s, a, identifiers) for s, a in page],
            "next": activity_cursor(*page[-1]) if len(found) > limit else "",
        }
    )


@router.get("/v1/objects/{object_type_id}/{object_id}", summary="An object and its people")
def get_object(
    request: Request,
    object_type_id: str,
    object_id: str,
    start: str = "",
    limit: int = OBJECT_LIMIT,
    workspace_id: int = Workspace,
) -> JsonAnswer:
    """One page of whom the object is related to, people first (docs/api.md §4)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    found, next_cursor = system_of(request).lookups.object(
        workspace_id, segment(object_type_id), segment(object_id), start, limit
    )
    return JsonAnswer({"object": found, "next": next_cursor})


@router.post(
    "/v1/merge_customers",
    summary="Merge two people (answers why when it cannot)",
    openapi_extra=schemas.body(schemas.MERGE),
)
async def merge(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request)
    system = system_of(request)
    mode = system.workspaces.mode(workspace_id)
    op = Merge(merge_side(body, "primary", mode), merge_side(body, "secondary", mode))
    await system.ingestion.one(workspace_id, Message(op, "merge"), "app", strict=True)
    return JsonAnswer({})


@router.post("/v1/customers/{ref}/unmerge", summary="Undo the latest merge into a person")
async def unmerge(
    request: Request, ref: str, id_type: str = "id", workspace_id: int = Workspace
) -> JsonAnswer:
    """docs/identity.md I6.4: 404 for an unknown person, 409 with the reason when there is no
    merge to undo or an identifier of the secondary has gone to someone else since."""
    system = system_of(request)
    mode = system.workspaces.mode(workspace_id)
    reference = _reference(segment(ref), id_type, mode)
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    both = await hygiene.unmerge(workspace_id, reference, mode)
    return JsonAnswer(
        {"primary": identifiers_of(both.primary), "secondary": identifiers_of(both.secondary)}
    )
