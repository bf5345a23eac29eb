"""The outbox (docs/api.md §4, §5): Customer.io's transactional API on the App API door,
`POST /v1/send/{email,push,sms,inbox_message,in_app}`, checked as Customer.io checks it,
recorded and never sent; and its list on roster's own API, `GET /api/outbox`.

This module is the one reader of the transactional wire format: what a client can get wrong is a
400 naming the field, before anything is written."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from fastapi import Depends, Request

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.domain.errors import InvalidInput
from roster.domain.identifiers import IdentifierMode, Reference, typed_reference
from roster.services.outbox import KINDS, OutboxEntry, Send

# /v1/send/* is Customer.io's App API; the list is roster's own /api.
router = doors.router("app")
listing = doors.router("roster")
Workspace = Depends(app_workspace)
MAX_LIMIT = 1000
# Attachments are sent inline, base64-encoded: 2 MB of them is about 2.8 MB of JSON.
MAX_BODY_BYTES = 4_000_000
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024  # Customer.io's limit on all of a message's attachments
MAX_RECIPIENTS = 15  # between to and bcc, as Customer.io counts them
SEND_AT_MAX_DAYS = 90
MAX_TRIGGER_CHARS = 255
IDENTIFIER_KINDS = ("id", "email", "cio_id")

FLAGS = (
    "disable_message_retention",
    "send_to_unsubscribed",
    "queue_draft",
    "tracked",
    "disable_css_preprocessing",
    "fake_bcc",
)
TEXTS = {
    "email": ("subject", "body", "body_plain", "body_amp", "preheader", "language"),
    "push": ("to", "title", "message", "image_url", "link", "sound", "language"),
    "sms": ("to", "language"),
    "inbox_message": ("language",),
    "in_app": ("language",),
}
OBJECTS = {
    "email": ("message_data", "headers"),
    "push": ("message_data", "custom_data", "custom_payload", "custom_device"),
    "sms": ("message_data",),
    "inbox_message": ("message_data",),
    "in_app": ("message_data",),
}
# One address, bare or as `Name <address>`.
_ADDRESS = re.compile(r"[^@\s<>,]+@[^@\s<>,]+")
_NAMED = re.compile(r"[^<>]*<([^<>]*)>")


def _address(raw: str) -> str | None:
    """The address in `a@b.c` or `Name <a@b.c>`; None when there is none."""
    text = raw.strip()
    named = _NAMED.fullmatch(text)
    if named:
        text = named.group(1).strip()
    return text if _ADDRESS.fullmatch(text) else None


def _addresses(body: dict[str, Any], field: str) -> int:
    """How many recipients a comma-separated address field names (0 when absent)."""
    value = body.get(field)
    if value is None:
        return 0
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be a string of email addresses", field=field)
    parts = value.split(",")
    for part in parts:
        if _address(part) is None:
            raise InvalidInput(f"{field} holds '{part.strip()}', not an email address", field=field)
    return len(parts)


def _one_address(body: dict[str, Any], field: str) -> None:
    value = body.get(field)
    if value is None:
        return
    if not isinstance(value, str) or _address(value) is None:
        raise InvalidInput(f"{field} must be one email address", field=field)


def _message_id(body: dict[str, Any], required: bool) -> None:
    """A template's number or its trigger name."""
    value = body.get("transactional_message_id")
    field = "transactional_message_id"
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required: a template's id or trigger name", field=field)
        return
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"{field} must be a number or a trigger name", field=field)
    if isinstance(value, int) and value <= 0:
        raise InvalidInput(f"{field} must be a positive number", field=field)
    if isinstance(value, str) and not 0 < len(value.strip()) <= len(value) <= MAX_TRIGGER_CHARS:
        raise InvalidInput(
            f"{field} must be a trigger name of 1 to {MAX_TRIGGER_CHARS} characters", field=field
        )


def read_identifiers(body: dict[str, Any], mode: IdentifierMode) -> Reference:
    """Exactly one of id, email, cio_id, read as the identity rules read them."""
    given = body.get("identifiers")
    if not isinstance(given, dict):
        raise InvalidInput(
            "identifiers is required: an object with one of id, email, cio_id", field="identifiers"
        )
    unknown = sorted(key for key in given if key not in IDENTIFIER_KINDS)
    if unknown:
        field = f"identifiers.{unknown[0]}"
        raise InvalidInput(f"unknown identifier {field}: use id, email or cio_id", field=field)
    named = [(kind, value) for kind, value in given.items() if value is not None]
    if len(named) != 1:
        raise InvalidInput("identifiers must hold exactly one of id, email, cio_id", "identifiers")
    kind, value = named[0]
    field = f"identifiers.{kind}"
    try:
        ref = typed_reference(kind, value, mode)
    except InvalidInput as error:
        raise InvalidInput(f"{field}: {error.message}", field=field) from error
    if not isinstance(ref, Reference):
        why = f"'{ref.blocked}' is a blocked placeholder value" if ref.blocked else "it is empty"
        raise InvalidInput(f"{field} cannot name a person: {why}", field=field)
    return ref


def _types(body: dict[str, Any], kind: str) -> None:
    for field in FLAGS:
        if field in body and body[field] is not None and not isinstance(body[field], bool):
            raise InvalidInput(f"{field} must be true or false", field=field)
    for field in TEXTS[kind]:
        if body.get(field) is not None and not isinstance(body[field], str):
            raise InvalidInput(f"{field} must be a string", field=field)
    for field in OBJECTS[kind]:
        if body.get(field) is not None and not isinstance(body[field], dict):
            raise InvalidInput(f"{field} must be an object", field=field)
    headers = body.get("headers")
    if kind == "email" and isinstance(headers, dict):
        for name, value in headers.items():
            if not isinstance(value, str):
                raise InvalidInput(f"headers.{name} must be a string", field=f"headers.{name}")


def _send_at(body: dict[str, Any], now: float) -> None:
    value = body.get("send_at")
    if value is None:
        return
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value <= 0:
        raise InvalidInput("send_at must be a unix timestamp in whole seconds", field="send_at")
    if value > now + SEND_AT_MAX_DAYS * 86400:
        raise InvalidInput(
            f"send_at cannot be more than {SEND_AT_MAX_DAYS} days ahead", field="send_at"
        )


def _attachments(body: dict[str, Any]) -> dict[str, Any] | None:
    """What is kept of the attachments: each file's size, not its contents (a page of the list
    would otherwise carry megabytes)."""
    given = body.get("attachments")
    if given is None:
        return None
    if not isinstance(given, dict):
        raise InvalidInput(
            "attachments must be an object of file names and base64 contents", field="attachments"
        )
    kept: dict[str, Any] = {}
    total = 0
    for name, content in given.items():
        field = f"attachments.{name}"
        if not name.strip():
            raise InvalidInput("an attachment needs a file name", field="attachments")
        if not isinstance(content, str):
            raise InvalidInput(f"{field} must be base64 text", field=field)
        try:
            size = len(base64.b64decode(content, validate=True))
        except (binascii.Error, ValueError) as error:
            raise InvalidInput(f"{field} is not valid base64", field=field) from error
        total += size
        if total > MAX_ATTACHMENT_BYTES:
            raise InvalidInput(
                f"attachments cannot total more than {MAX_ATTACHMENT_BYTES} bytes",
                field="attachments",
            )
        kept[name] = {"bytes": size}
    return kept


def read_send(kind: str, body: dict[str, Any], mode: IdentifierMode, now: float) -> Send:
    """A send request, every field a client can get wrong checked; InvalidInput names it."""
    ref = read_identifiers(body, mode)
    templated = body.get("transactional_message_id") is not None
    _message_id(body, required=kind != "email")
    _types(body, kind)
    _send_at(body, now)
    message = dict(body)
    to: str | None = None
    if kind == "email":
        if not templated:  # no template: the message is all in the call
            for field in ("from", "subject", "body"):
                if not body.get(field):
                    raise InvalidInput(
                        f"{field} is required without a transactional_message_id", field=field
                    )
        _one_address(body, "from")
        _one_address(body, "reply_to")
        recipients = _addresses(body, "to") + _addresses(body, "bcc")
        _addresses(body, "cc")
        if recipients > MAX_RECIPIENTS:
            raise InvalidInput(
                f"to and bcc cannot name more than {MAX_RECIPIENTS} recipients", field="to"
            )
        to = body.get("to")
        if to is None and ref.kind == "email":
            to = ref.value
            message["to"] = to
        attachments = _attachments(body)
        if attachments is not None:
            message["attachments"] = attachments
    draft = body.get("queue_draft") is True
    return Send(kind, ref, message, to, draft)


def entry_json(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "delivery_id": entry.delivery_id,
        "kind": entry.kind,
        "queued_at": entry.queued_at,
        "customer": {"cio_id": entry.cio_id, "id": entry.id, "email": entry.email},
        "message": entry.message,
    }


async def _send(request: Request, kind: str, workspace_id: int) -> JsonAnswer:
    body = await json_object(request, limit=MAX_BODY_BYTES)
    system = system_of(request)
    mode = system.workspaces.mode(workspace_id)
    send = read_send(kind, body, mode, system.outbox.now())
    delivery = await system.outbox.send(workspace_id, send)
    return JsonAnswer({"delivery_id": delivery.delivery_id, "queued_at": delivery.queued_at})


def _route(kind: str) -> None:
    async def send(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
        return await _send(request, kind, workspace_id)

    router.add_api_route(
        f"/v1/send/{kind}",
        send,
        methods=["POST"],
        tags=["App API"],
        summary=f"Record a transactional {kind.replace('_', ' ')} (never sent)",
        name=f"send_{kind}",
        openapi_extra=schemas.body(schemas.send(kind)),
    )


for _kind in KINDS:
    _route(_kind)


@listing.get("/api/outbox", tags=["roster"], summary="The messages recorded, newest first")
def outbox_list(
    request: Request, limit: int = 100, start: str = "", workspace_id: int = Workspace
) -> JsonAnswer:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    entries, next_cursor = system_of(request).outbox.page(workspace_id, start, limit)
    return JsonAnswer({"messages": [entry_json(e) for e in entries], "next": next_cursor})
