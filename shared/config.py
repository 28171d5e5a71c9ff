"""Configuration read from the environment in one place, with local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Everything a duban process needs to know about its surroundings."""

    mongo_url: str = field(default_factory=lambda: _env("MONGO_URL", "mongodb://127.0.0.1:27017/"))
    # How long a MongoDB client looks for a reachable server, waits to open a connection, and waits for one
    # answer (shared/mongo.py). A web process gives each database operation mongo_operation_timeout_ms in all,
    # so a request to a server that stopped answering ends in a 503 within about 10 s instead of hanging;
    # workers and the CLI, whose cursors may run long (a rebuild), bound each round trip by
    # mongo_batch_socket_timeout_ms.
    mongo_server_selection_timeout_ms: int = field(
        default_factory=lambda: int(_env("DUBAN_MONGO_SERVER_SELECTION_TIMEOUT_MS", "5000")))
    mongo_connect_timeout_ms: int = field(default_factory=lambda: int(_env("DUBAN_MONGO_CONNECT_TIMEOUT_MS", "5000")))
    mongo_operation_timeout_ms: int = field(
        default_factory=lambda: int(_env("DUBAN_MONGO_OPERATION_TIMEOUT_MS", "8000")))
    mongo_batch_socket_timeout_ms: int = field(
        default_factory=lambda: int(_env("DUBAN_MONGO_BATCH_SOCKET_TIMEOUT_MS", "120000")))
    kafka_bootstrap: str = field(default_factory=lambda: _env("KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    db_prefix: str = field(default_factory=lambda: _env("DUBAN_DB_PREFIX", "duban"))
    topic_prefix: str = field(default_factory=lambda: _env("DUBAN_TOPIC_PREFIX", "duban"))
    jwt_secret: str = field(default_factory=lambda: _env("DUBAN_JWT_SECRET", "duban-local-development-secret-change-me"))
    log_level: str = field(default_factory=lambda: _env("DUBAN_LOG_LEVEL", "INFO"))
    # at start-up, an indexed equality lookup the server would answer by a full scan: enforce (refuse to
    # start), warn (log it) or off; see shared/query_plans.py
    index_check: str = field(default_factory=lambda: _env("DUBAN_INDEX_CHECK", "enforce"))
    relay_batch_size: int = field(default_factory=lambda: int(_env("DUBAN_RELAY_BATCH", "500")))
    relay_idle_seconds: float = field(default_factory=lambda: float(_env("DUBAN_RELAY_IDLE_SECONDS", "0.05")))
    # how long an Idempotency-Key's record (and so its stored answer) is kept (shared/idempotency.py)
    idempotency_ttl_days: float = field(default_factory=lambda: float(_env("DUBAN_IDEMPOTENCY_TTL_DAYS", "7")))
    # how often the workers' deadline watchers look for missed deadlines
    deadline_watch_seconds: float = field(default_factory=lambda: float(_env("DUBAN_DEADLINE_WATCH_SECONDS", "60")))
    # where the portal (and the CLI) reach the services' HTTP APIs
    tasks_url: str = field(default_factory=lambda: _env("DUBAN_TASKS_URL", "http://127.0.0.1:8001"))
    notices_url: str = field(default_factory=lambda: _env("DUBAN_NOTICES_URL", "http://127.0.0.1:8002"))
    followups_url: str = field(default_factory=lambda: _env("DUBAN_FOLLOWUPS_URL", "http://127.0.0.1:8003"))
    # YAML of the portal's accounts (services.portal.adapters.users); empty means the demo accounts
    portal_users_file: str | None = field(default_factory=lambda: _env("DUBAN_PORTAL_USERS", "") or None)
    # YAML of per-office clocks (shared.policy); empty means the published defaults
    policy_file: str | None = field(default_factory=lambda: _env("DUBAN_POLICY_FILE", "") or None)
    # how long the tasks API may parse one plan preview before answering 422 (a web worker must not be held
    # for minutes); 0 means no limit
    plan_parse_deadline_seconds: float = field(default_factory=lambda: float(_env("DUBAN_PLAN_PARSE_DEADLINE_SECONDS", "20")))
    # where the portal keeps snapshots of its read models (services.portal.adapters.snapshot); empty: none,
    # every start replays the topics from the beginning
    portal_snapshot_dir: str | None = field(default_factory=lambda: _env("DUBAN_PORTAL_SNAPSHOT_DIR", "") or None)
    # once caught up, the portal writes a snapshot after this many events, or this long after the last one if
    # anything arrived since (and at a clean shutdown)
    portal_snapshot_events: int = field(default_factory=lambda: int(_env("DUBAN_PORTAL_SNAPSHOT_EVENTS", "100000")))
    portal_snapshot_seconds: float = field(default_factory=lambda: float(_env("DUBAN_PORTAL_SNAPSHOT_SECONDS", "600")))
    # the workers' Kafka consumers (shared/kafka.py): records handled per poll, and how long handling them may
    # take before the consumer counts as stuck and its partitions go to another member; small polls and a long
    # interval, so that a slow store makes the worker slow, never a member that is evicted and commits nothing
    consumer_max_poll_records: int = field(default_factory=lambda: int(_env("DUBAN_CONSUMER_MAX_POLL_RECORDS", "20")))
    consumer_max_poll_interval_seconds: float = field(
        default_factory=lambda: float(_env("DUBAN_CONSUMER_MAX_POLL_INTERVAL_SECONDS", "600")))

    def database(self, service: str) -> str:
        """Each service owns one database; services never read each other's."""
        return f"{self.db_prefix}_{service}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}.{name}"

    @property
    def dead_letter_topic(self) -> str:
        return self.topic("dlq")
