"""Configuration read from the environment in one place, with local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


# The secret this repository once shipped as its default: anyone can sign tokens with it, so outside development
# mode no process may start with it (nor without a secret at all).
PUBLISHED_DEVELOPMENT_SECRET = "duban-local-development-secret-change-me"


class InsecureConfiguration(RuntimeError):
    """A setting that would make a deployment unsafe; the process refuses to start."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


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
    # DUBAN_DEV_MODE=1: a developer's machine (`make run` sets it): the portal's demo accounts, and the published
    # development secret, are allowed; never set it on a server
    dev_mode: bool = field(default_factory=lambda: _truthy(_env("DUBAN_DEV_MODE", "0")))
    # the HS256 key of every bearer token (and of the portal's cookies and snapshots): required outside dev mode
    jwt_secret: str = field(default_factory=lambda: _env("DUBAN_JWT_SECRET", ""))
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
    # 佐证材料 uploaded but named by no step after this many days are deleted (an abandoned form's files), and
    # how often the followups worker looks for them
    evidence_unreferenced_days: float = field(
        default_factory=lambda: float(_env("DUBAN_EVIDENCE_UNREFERENCED_DAYS", "7")))
    evidence_sweep_seconds: float = field(default_factory=lambda: float(_env("DUBAN_EVIDENCE_SWEEP_SECONDS", "3600")))
    # where the portal (and the CLI) reach the services' HTTP APIs
    tasks_url: str = field(default_factory=lambda: _env("DUBAN_TASKS_URL", "http://127.0.0.1:8001"))
    notices_url: str = field(default_factory=lambda: _env("DUBAN_NOTICES_URL", "http://127.0.0.1:8002"))
    followups_url: str = field(default_factory=lambda: _env("DUBAN_FOLLOWUPS_URL", "http://127.0.0.1:8003"))
    # the messages service: its channels (SMTP, SMS gateway, IM group robots; services/messages/adapters/channels.py),
    # the offices' own message rules (services/messages/rules.yaml has the defaults), the portal's address for links
    # in messages, quiet hours for SMS and IM (Beijing time; deferred, never dropped), how often the dispatcher looks
    messages_config: str | None = field(default_factory=lambda: _env("DUBAN_MESSAGES_CONFIG", "") or None)
    message_rules: str | None = field(default_factory=lambda: _env("DUBAN_MESSAGE_RULES", "") or None)
    portal_url: str = field(default_factory=lambda: _env("DUBAN_PORTAL_URL", "http://127.0.0.1:8000"))
    quiet_hours: str = field(default_factory=lambda: _env("DUBAN_QUIET_HOURS", "22:00-07:30"))
    dispatch_seconds: float = field(default_factory=lambda: float(_env("DUBAN_DISPATCH_SECONDS", "0.5")))
    # how often the messages worker looks whether the daily digest (每日待办摘要) is due: it goes out on the first pass
    # past its hour (services/messages/rules.yaml, `digest.at`), so at most this late
    digest_seconds: float = field(default_factory=lambda: float(_env("DUBAN_DIGEST_SECONDS", "300")))
    # where the portal reads and marks a person's messages and office staff retry failed deliveries (the messages API)
    messages_url: str = field(default_factory=lambda: _env("DUBAN_MESSAGES_URL", "http://127.0.0.1:8005"))
    # where the portal signs people in; empty: no directory, only the local accounts (development mode's demo ones)
    directory_url: str | None = field(default_factory=lambda: _env("DUBAN_DIRECTORY_URL", "") or None)
    # callers whose X-Forwarded-For names the client (the portal signs people in for them); comma-separated
    trusted_proxies: tuple[str, ...] = field(default_factory=lambda: tuple(
        a.strip() for a in _env("DUBAN_TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if a.strip()))
    # how long a sign-in lasts (the token's lifetime)
    session_hours: float = field(default_factory=lambda: float(_env("DUBAN_SESSION_HOURS", "10")))
    # YAML of the portal's accounts (services.portal.adapters.users); empty means the demo accounts (dev mode only)
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

    # the portal's sign-in: a session ends after this long without a request, and in any case this long after
    # signing in
    portal_idle_minutes: float = field(default_factory=lambda: float(_env("DUBAN_PORTAL_IDLE_MINUTES", "120")))
    portal_session_hours: float = field(default_factory=lambda: float(_env("DUBAN_PORTAL_SESSION_HOURS", "10")))
    # DUBAN_TRUST_PROXY=1: the portal sits behind one reverse proxy whose X-Forwarded-For/-Proto/-Host it believes
    # (client address for the sign-in limits, HTTPS for Secure cookies); without a proxy a client could forge them
    trust_proxy: bool = field(default_factory=lambda: _truthy(_env("DUBAN_TRUST_PROXY", "0")))

    def __post_init__(self) -> None:
        if not self.jwt_secret:
            if not self.dev_mode:
                raise InsecureConfiguration(
                    "DUBAN_JWT_SECRET is not set: set it to a long random secret (e.g. the output of "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), the same for every duban process, "
                    "or set DUBAN_DEV_MODE=1 on a developer's machine / 未配置令牌密钥 DUBAN_JWT_SECRET，拒绝启动")
            object.__setattr__(self, "jwt_secret", PUBLISHED_DEVELOPMENT_SECRET)
        elif self.jwt_secret == PUBLISHED_DEVELOPMENT_SECRET and not self.dev_mode:
            raise InsecureConfiguration(
                "DUBAN_JWT_SECRET is the published development secret, with which anyone can sign tokens: set a secret "
                "of your own (or DUBAN_DEV_MODE=1 on a developer's machine) / 令牌密钥是公开的开发用默认值，拒绝启动")

    def database(self, service: str) -> str:
        """Each service owns one database; services never read each other's."""
        return f"{self.db_prefix}_{service}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}.{name}"

    @property
    def dead_letter_topic(self) -> str:
        return self.topic("dlq")
