"""Worker process of the followups service: ``python -m services.followups.entrypoints.worker``."""
from shared.worker import worker_main
from services.followups.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
