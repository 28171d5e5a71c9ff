"""The worker process of a service: its outbox relay plus one consumer per topic it reacts to."""
from __future__ import annotations

import functools
import logging
import signal
import threading

from kafka import KafkaProducer

from shared.config import Settings
from shared.consumer import ConsumerRunner, ProcessedLog
from shared.kafka import ensure_topics, make_consumer, make_producer
from shared.relay import Lease, OutboxRelay
from shared.service import ServiceContext, Timer

log = logging.getLogger(__name__)

PRODUCER_CLOSE_SECONDS = 5.0  # what it still holds is sent in this time (the relay waits for its sends already)


def consumer_group(settings: Settings, service: str, topic_name: str) -> str:
    """One consumer group per service per topic (DESIGN §3)."""
    return f"{settings.topic_prefix}.{service}.{topic_name}"


class Worker:
    """Runs the relay and consumers in threads until ``stop`` is set (SIGTERM/SIGINT in production)."""

    def __init__(self, context: ServiceContext):
        self.context = context
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.producer: KafkaProducer | None = None  # shared by the relay and the consumers' dead-letter sends; closed last

    def start(self) -> None:
        ctx, settings = self.context, self.context.settings
        ensure_topics(settings)
        self.producer = producer = make_producer(settings)
        relay = OutboxRelay(
            ctx.store, producer, ctx.own_topic,
            lease=Lease(ctx.database["relay_leases"], f"relay:{ctx.name}"),
            batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds,
        )
        self._spawn(f"{ctx.name}-relay", relay.run)
        for topic_name, handle in ctx.reactions.items():
            group = consumer_group(settings, ctx.name, topic_name)
            runner = ConsumerRunner(
                make_consumer(settings, group, [settings.topic(topic_name)]), group, handle,
                ProcessedLog(ctx.database["processed_events"], group), producer, settings.dead_letter_topic,
            )
            self._spawn(group, runner.run)
        for name, timer in ctx.timers.items():
            self._spawn(f"{ctx.name}-{name}", functools.partial(run_timer, name, timer))

    def _spawn(self, name: str, target) -> None:
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float = 15.0) -> None:
        """Wait for the threads, then close the producer they shared (its network thread otherwise runs on,
        reconnecting for ever to a broker that may be gone: a test session starting and stopping many workers
        gathered one per worker)."""
        for thread in self.threads:
            thread.join(timeout)
        if self.producer is not None:
            self.producer.close(timeout=PRODUCER_CLOSE_SECONDS)
            self.producer = None

    def shutdown(self) -> None:
        self.stop.set()
        self.join()


def run_timer(name: str, timer: Timer, stop: threading.Event) -> None:
    """Call the job every interval until stopped; a failed pass is logged and the next one tries again."""
    while not stop.is_set():
        try:
            timer.run()
        except Exception:  # noqa: BLE001 - a timer pass is retried on its next tick, not fatal to the worker
            log.exception("timer pass failed", extra={"timer": name})
        stop.wait(timer.interval)


def run_worker_forever(context: ServiceContext) -> None:
    """Entry point body for ``python -m services.<name>.entrypoints.worker``."""
    worker = Worker(context)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop.set())
    worker.start()
    log.info("worker running", extra={"service": context.name, "reacts_to": list(context.reactions)})
    while not worker.stop.wait(1.0):
        dead = [t.name for t in worker.threads if not t.is_alive()]
        if dead:
            log.error("worker thread died; stopping so the supervisor restarts us", extra={"threads": dead})
            worker.stop.set()
    worker.join()
    log.info("worker stopped", extra={"service": context.name})


def worker_main(bootstrap) -> None:
    """Body of every ``services.<name>.entrypoints.worker`` module."""
    from shared.logging import configure_logging

    context = bootstrap()
    configure_logging(context.name, context.settings.log_level)
    run_worker_forever(context)
