"""Structured logs: one JSON object a line (or plain text), for the server and the CLI.
A formatter of a few lines does the job; a logging framework would add nothing here.

Every line written while a request is answered carries its request id (`request_id`), which
its answer carries too (`X-Request-Id`): the API's middleware sets it for the request's task,
and threads the request runs work in inherit it. Logs hold no personal data (docs/operations.md,
"Logs"): messages name people by cio_id or by hash, never by id or email."""

from __future__ import annotations

import contextvars
import logging
import time

import orjson

REQUEST_ID_KEY = "roster.request_id"  # where a request's scope keeps its id too
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "roster_request_id", default=None
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = getattr(record, "request_id", None)
        if request is not None:
            entry["request_id"] = request
        for key in ("door", "method", "route", "status", "ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure(level: str = "info", form: str = "json") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel("WARNING")
    logging.getLogger("alembic").setLevel("WARNING")  # "Context impl …" on every start
