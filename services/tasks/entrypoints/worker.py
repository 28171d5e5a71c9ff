"""Worker process of the tasks service: ``python -m services.tasks.entrypoints.worker``."""
from shared.worker import worker_main
from services.tasks.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
