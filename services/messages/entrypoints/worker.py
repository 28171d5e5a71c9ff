"""Worker process of the messages service: ``python -m services.messages.entrypoints.worker``."""
from shared.worker import worker_main
from services.messages.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
