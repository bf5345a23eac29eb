"""What each door accepts, as JSON Schema for the OpenAPI document (`/openapi.json`, `/docs`).

The handlers read raw bodies through api/bodies.py and api/parsing.py (one parser per wire
format, Customer.io's and Segment's exact behaviour and messages), so FastAPI cannot infer their
bodies; these schemas describe them instead, attached with `openapi_extra=body(...)`. They say
what a well-formed call holds and are as permissive as the parsers: where Customer.io or Segment
take any attribute, so do they (`additionalProperties`). The parsers, not these schemas, decide:
nothing validates a request against them."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

ANY_OBJECT: Schema = {"type": "object", "additionalProperties": True}
TEXT_OR_NUMBER: Schema = {"type": ["string", "integer"]}
TIME: Schema = {
    "type": ["integer", "number", "string", "null"],
    "description": "Unix seconds (or milliseconds), or an ISO-8601 time",
}


def body(schema: Schema, required: bool = True, media: str = "application/json") -> Schema:
    """The `openapi_extra` of a route that reads `schema` from its raw body."""
    return {"requestBody": {"required": required, "content": {media: {"schema": schema}}}}


def _object(properties: Schema, required: tuple[str, ...] = (), extra: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        schema["required"] = list(required)
    return schema


# -- Customer.io's Track API v1 (docs/api.md §1) ---------------------------------------------------

OBJECT_IDENTIFIERS = _object(
    {"object_type_id": TEXT_OR_NUMBER, "object_id": TEXT_OR_NUMBER}, ("object_id",)
)
RELATIONSHIPS: Schema = {
    "type": "array",
    "items": _object({"identifiers": OBJECT_IDENTIFIERS, "relationship_attributes": ANY_OBJECT}),
}
TRACK_IDENTIFY = _object(
    {
        "id": {"type": ["string", "integer", "null"], "description": "null or '' removes it"},
        "email": {"type": ["string", "null"], "description": "null or '' removes it"},
        "anonymous_id": {"type": ["string", "null"]},
        "created_at": TIME,
        "_timestamp": TIME,
        "_update": {"type": ["boolean", "null"], "description": "only update, never create"},
        "cio_relationships": RELATIONSHIPS,
    }
)
TRACK_EVENT = _object(
    {
        "name": {"type": "string", "minLength": 1},
        "type": {"enum": ["event", "page", "screen"]},
        "id": TEXT_OR_NUMBER,
        "timestamp": TIME,
        "data": ANY_OBJECT,
        "anonymous_id": {"type": ["string", "null"]},
    },
    ("name",),
)
TRACK_DEVICE = _object(
    {
        "device": _object(
            {
                "id": {"type": "string", "minLength": 1},
                "token": {"type": "string", "description": "Track API v2's name for id"},
                "platform": {"type": "string", "minLength": 1, "examples": ["ios", "android"]},
                "last_used": TIME,
                "attributes": ANY_OBJECT,
            },
            ("platform",),
        )
    },
    ("device",),
)
ONE_IDENTIFIER: Schema = {
    "type": "object",
    "description": "exactly one of id, email, cio_id",
    "properties": {"id": TEXT_OR_NUMBER, "email": {"type": "string"}, "cio_id": {"type": "string"}},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}
MERGE = _object({"primary": ONE_IDENTIFIER, "secondary": ONE_IDENTIFIER}, ("primary", "secondary"))
METRIC = _object(
    {
        "delivery_id": {"type": "string", "minLength": 1},
        "metric": {"type": "string", "minLength": 1},
        "timestamp": TIME,
        "recipient": {"type": "string"},
        "reason": {"type": "string"},
        "href": {"type": "string"},
    },
    ("delivery_id", "metric"),
)
PUSH_METRIC = _object(
    {
        "delivery_id": {"type": "string", "minLength": 1},
        "event": {"type": "string", "minLength": 1},
        "device_id": {"type": "string"},
        "timestamp": TIME,
    },
    ("delivery_id", "event"),
)

# -- Customer.io's Track API v2 (docs/api.md §2) ---------------------------------------------------

V2_ACTIONS = [
    "identify",
    "identify_anonymous",
    "event",
    "page",
    "screen",
    "viewed_content",
    "clicked_content",
    "delete",
    "suppress",
    "unsuppress",
    "add_device",
    "delete_device",
    "add_relationships",
    "delete_relationships",
    "merge",
]
V2_OPERATION = _object(
    {
        "type": {"enum": ["person", "object", "delivery"]},
        "action": {"enum": V2_ACTIONS},
        "identifiers": {
            "type": "object",
            "description": "a person: one of id, email, cio_id, anonymous_id; an object: "
            "object_type_id and object_id; a delivery: id",
            "additionalProperties": True,
        },
        "attributes": ANY_OBJECT,
        "name": {"type": "string"},
        "id": {"type": "string"},
        "timestamp": TIME,
        "device": ANY_OBJECT,
        "cio_relationships": {
            "type": "array",
            "items": _object({"identifiers": ANY_OBJECT, "relationship_attributes": ANY_OBJECT}),
        },
        "primary": ONE_IDENTIFIER,
        "secondary": ONE_IDENTIFIER,
    },
    ("type", "action"),
)
V2_BATCH = _object({"batch": {"type": "array", "items": V2_OPERATION}}, ("batch",))

# -- Segment's Spec API and webhooks (docs/api.md §3) ----------------------------------------------

_SEGMENT_COMMON: Schema = {
    "type": {"type": "string"},
    "userId": {"type": ["string", "integer", "null"]},
    "anonymousId": {"type": ["string", "integer", "null"]},
    "messageId": {"type": "string"},
    "timestamp": TIME,
    "sentAt": TIME,
    "context": ANY_OBJECT,
    "integrations": ANY_OBJECT,
    "writeKey": {"type": "string", "description": "when no Authorization header carries it"},
}
_SEGMENT_OWN: dict[str, tuple[Schema, tuple[str, ...]]] = {
    "identify": ({"traits": ANY_OBJECT}, ()),
    "track": ({"event": {"type": "string", "minLength": 1}, "properties": ANY_OBJECT}, ("event",)),
    "page": (
        {"name": {"type": "string"}, "category": {"type": "string"}, "properties": ANY_OBJECT},
        (),
    ),
    "screen": ({"name": {"type": "string"}, "properties": ANY_OBJECT}, ()),
    "group": ({"groupId": TEXT_OR_NUMBER, "traits": ANY_OBJECT}, ("groupId",)),
    "alias": ({"previousId": TEXT_OR_NUMBER}, ("previousId",)),
}
SEGMENT_MESSAGES = {
    kind: _object({**_SEGMENT_COMMON, **own}, required)
    for kind, (own, required) in _SEGMENT_OWN.items()
}
SEGMENT_MESSAGE = _object(
    {
        **_SEGMENT_COMMON,
        "type": {"enum": list(_SEGMENT_OWN)},
        **{key: value for own, _ in _SEGMENT_OWN.values() for key, value in own.items()},
    },
    ("type",),
)
SEGMENT_BATCH = _object(
    {
        "batch": {"type": "array", "items": SEGMENT_MESSAGE, "maxItems": 2500},
        "context": ANY_OBJECT,
        "integrations": ANY_OBJECT,
        "writeKey": {"type": "string"},
    },
    ("batch",),
)
WEBHOOK: Schema = {
    "description": 'one message, an array of them, or {"batch": [...]}',
    "anyOf": [
        SEGMENT_MESSAGE,
        {"type": "array", "items": SEGMENT_MESSAGE, "maxItems": 4000},
        _object(
            {
                "batch": {"type": "array", "items": SEGMENT_MESSAGE, "maxItems": 4000},
                "context": ANY_OBJECT,
                "integrations": ANY_OBJECT,
            },
            ("batch",),
        ),
    ],
}

# -- Customer.io's App API (docs/api.md §4) --------------------------------------------------------

REFERENCES: Schema = {"type": "array", "items": TEXT_OR_NUMBER, "minItems": 1}
MANY_ATTRIBUTES = _object({"ids": {**REFERENCES, "maxItems": 100}}, ("ids",))
DELETE_BY_LIST = _object(
    {"ids": {**REFERENCES, "maxItems": 10_000}, "id_type": {"enum": ["id", "email", "cio_id"]}},
    ("ids",),
)
_ATTRIBUTE_FILTER = _object(
    {
        "field": {"type": "string", "minLength": 1},
        "operator": {"enum": ["eq", "exists"]},
        "value": {"type": ["string", "integer", "number", "boolean"]},
    },
    ("field", "operator"),
    extra=False,
)


def _filter(inner: Schema) -> Schema:
    """A filter whose and/or/not hold `inner`: the grammar is recursive, the document is not
    (written out two levels deep, then any object, which the parser reads the same way)."""
    return {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "and": {"type": "array", "items": inner},
            "or": {"type": "array", "items": inner},
            "not": inner,
            "attribute": _ATTRIBUTE_FILTER,
        },
        "additionalProperties": False,
    }


FILTER: Schema = {
    **_filter(_filter(ANY_OBJECT)),
    "description": '{"and": [F, …]} | {"or": [F, …]} | {"not": F} | '
    '{"attribute": {"field", "operator": "eq" | "exists", "value"?}}',
}
PEOPLE_SEARCH = _object({"filter": FILTER}, ("filter",), extra=False)
EXPORT = _object(
    {"filters": FILTER, "attributes": {"type": "array", "items": {"type": "string"}}},
    extra=False,
)
_SEND_COMMON: Schema = {
    "identifiers": ONE_IDENTIFIER,
    "transactional_message_id": {"type": ["integer", "string"]},
    "message_data": ANY_OBJECT,
    "send_at": {"type": "integer"},
    "language": {"type": "string"},
    "disable_message_retention": {"type": "boolean"},
    "send_to_unsubscribed": {"type": "boolean"},
    "queue_draft": {"type": "boolean"},
    "tracked": {"type": "boolean"},
}
_SEND_OWN: dict[str, Schema] = {
    "email": {
        "to": {"type": "string"},
        "from": {"type": "string"},
        "reply_to": {"type": "string"},
        "cc": {"type": "string"},
        "bcc": {"type": "string"},
        "subject": {"type": "string"},
        "body": {"type": "string"},
        "body_plain": {"type": "string"},
        "body_amp": {"type": "string"},
        "preheader": {"type": "string"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "attachments": {
            "type": "object",
            "description": "file names and their base64 contents",
            "additionalProperties": {"type": "string"},
        },
        "fake_bcc": {"type": "boolean"},
        "disable_css_preprocessing": {"type": "boolean"},
    },
    "push": {
        "to": {"type": "string"},
        "title": {"type": "string"},
        "message": {"type": "string"},
        "image_url": {"type": "string"},
        "link": {"type": "string"},
        "sound": {"type": "string"},
        "custom_data": ANY_OBJECT,
        "custom_payload": ANY_OBJECT,
        "custom_device": ANY_OBJECT,
    },
    "sms": {"to": {"type": "string"}},
    "inbox_message": {},
    "in_app": {},
}


def send(kind: str) -> Schema:
    """A transactional message of `kind` (email needs a template or from, subject and body)."""
    required = ("identifiers",) if kind == "email" else ("identifiers", "transactional_message_id")
    return _object({**_SEND_COMMON, **_SEND_OWN[kind]}, required)


# -- roster's own API (docs/api.md §5) -------------------------------------------------------------

UNSUPPRESS = {**ONE_IDENTIFIER, "description": "exactly one of id, email, cio_id"}
WORKSPACE_SETTINGS = _object(
    {
        "identifier_mode": {"enum": ["email_or_id", "id_only"]},
        "allow_email_update_by_id": {"type": "boolean"},
        "auto_merge": {"type": "boolean"},
        "strict_conflicts": {"type": "boolean"},
        "anonymous_retention_days": {"type": "integer", "minimum": 1},
    },
    extra=False,
)
RESOLVE = _object(
    {
        "conflict": {"type": ["string", "integer"], "description": "a conflict's id, as listed"},
        "preview": {"type": "boolean", "default": True},
        "force": {"type": "boolean", "default": False},
    },
    ("conflict",),
    extra=False,
)
