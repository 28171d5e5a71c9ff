"""Worker process of the directory service: ``python -m services.directory.entrypoints.worker``."""
from shared.worker import worker_main
from services.directory.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
