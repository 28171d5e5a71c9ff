"""Worker process of the notices service: ``python -m services.notices.entrypoints.worker``."""
from shared.worker import worker_main
from services.notices.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
