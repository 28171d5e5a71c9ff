"""gunicorn settings for every duban web process (values overridable from the environment)."""
import os

bind = os.environ.get("DUBAN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DUBAN_WEB_WORKERS", "2"))
threads = int(os.environ.get("DUBAN_WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
accesslog = None  # request lines come from the app's JSON logs
preload_app = False  # connections must be made after fork


def child_exit(server, worker):
    """Let prometheus-client drop the metrics files of a worker that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
