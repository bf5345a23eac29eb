"""What `/metrics` shows (docs/operations.md, "Metrics"), with Prometheus's own client library.

Each running system has a registry of its own (tests run many in one process). HTTP requests
are counted by the API's middleware; operations, conflicts, refused changes, ingestion-log
entries, merges and database errors by the ingestion service once a call is answered; the
writer's queue depth, commits and group sizes are read from the writer.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from roster.domain.context import Outcome
from roster.domain.operations import Operation

if TYPE_CHECKING:
    from roster.storage.writer import Writer

# Answers take milliseconds; a few seconds is a writer waiting for a lost database.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MERGE_RULE = "I6.2"


def kind_of(op: Operation) -> str:
    """An operation's kind as a label: `TrackEvent` → `track_event`."""
    cls = type(op)
    if cls not in _KINDS:
        _KINDS[cls] = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    return _KINDS[cls]


_KINDS: dict[type, str] = {}


class _WriterCollector(Collector):
    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    def collect(self) -> Iterable[Metric]:
        writer = self._writer
        status = writer.status()
        yield CounterMetricFamily(
            "roster_write_transactions", "Write transactions committed.", value=writer.batches
        )
        yield CounterMetricFamily(
            "roster_write_requests", "Requests applied by the writer.", value=writer.requests
        )
        yield GaugeMetricFamily(
            "roster_writer_writable",
            "1 when the writer can write, 0 while the database is away.",
            value=int(status.alive and status.writable),
        )
        yield GaugeMetricFamily(
            "roster_writer_queue_depth",
            "Requests waiting for the writer.",
            value=status.queue_depth,
        )
        yield GaugeMetricFamily(
            "roster_writer_draining", "1 while the server is stopping.", value=int(status.draining)
        )


class Telemetry:
    def __init__(self, writer: Writer) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "roster_http_requests", "HTTP requests answered, by door and status.",
            ["door", "status"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "roster_http_request_seconds", "Time to answer an HTTP request, by door.",
            ["door"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.operations = Counter(
            "roster_operations", "Operations applied, by kind.", ["kind"], registry=registry
        )
        self.conflicts = Counter(
            "roster_identifier_conflicts",
            "Identifier conflicts: an identifier held by another person (docs/identity.md I5.2).",
            registry=registry,
        )
        self.refused_changes = Counter(
            "roster_refused_changes",
            "Identifier changes refused (failed_attribute_change in the activity log).",
            registry=registry,
        )
        self.logged = Counter(
            "roster_ingestion_log_entries",
            "Calls or messages accepted but not (fully) used, by door (the ingestion log).",
            ["door"], registry=registry,
        )  # fmt: skip
        self.merges = Counter("roster_merges", "People merged.", registry=registry)
        self.rate_limited = Counter(
            "roster_rate_limited", "Calls refused 429 by the rate limit, by door.", ["door"],
            registry=registry,
        )  # fmt: skip
        self.database_errors = Counter(
            "roster_database_errors",
            "Calls answered 503 because the database could not take them.",
            registry=registry,
        )
        self.group_sizes = Histogram(
            "roster_writer_group_size", "Requests committed together by one write transaction.",
            buckets=GROUP_BUCKETS, registry=registry,
        )  # fmt: skip
        registry.register(_WriterCollector(writer))
        writer.on_commit = self.group_sizes.observe

    def applied(
        self, door: str, ops: Sequence[Sequence[Operation]], outcomes: Sequence[object]
    ) -> None:
        """A request's messages (their operations) and what each ended in: added up first, so
        that each counter moves once a request (a batch holds hundreds of messages)."""
        kinds: Tally[str] = Tally()
        logged = merged = conflicts = refused = 0
        for message_ops, outcome in zip(ops, outcomes, strict=True):
            if not isinstance(outcome, Outcome):
                logged += 1  # a refused message is logged with its reason
                continue
            kinds.update(kind_of(op) for op in message_ops)
            # Every merge, asked for or not (alias, auto-merge I6.5), is decided by I6.2.
            merged += sum(1 for citation in outcome.rules if citation.rule == MERGE_RULE)
            conflicts += len(outcome.conflicts)
            refused += len(outcome.refused)
            logged += len(outcome.notes)
        for kind, count in kinds.items():
            self.operations.labels(kind).inc(count)
        if merged:
            self.merges.inc(merged)
        if conflicts:
            self.conflicts.inc(conflicts)
        if refused:
            self.refused_changes.inc(refused)
        if logged:
            self.logged.labels(door).inc(logged)

    def dropped(self, door: str, count: int) -> None:
        if count:
            self.logged.labels(door).inc(count)

    def text(self) -> bytes:
        return generate_latest(self.registry)
