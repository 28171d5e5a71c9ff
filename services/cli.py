"""The `duban` command line."""
from __future__ import annotations

import json
from datetime import timedelta

import click

from shared.auth import Role, issue_token
from shared.config import Settings
from shared.eventstore.base import verify_events

SERVICE_NAMES = ("tasks", "notices", "followups", "directory", "messages")


@click.group()
def main() -> None:
    """督办 duban: supervision notices, rectification follow-up and audit timelines."""


@main.command()
@click.option("--user", "user_id", required=True, help="user id, e.g. zhang.san")
@click.option("--role", type=click.Choice(Role.ALL), required=True)
@click.option("--unit", default=None, help="the user's unit, e.g. 巴州区教育局")
@click.option("--name", default=None, help="display name")
@click.option("--hours", default=12, show_default=True, help="validity")
def token(user_id: str, role: str, unit: str | None, name: str | None, hours: int) -> None:
    """Issue a signed token for the configured DUBAN_JWT_SECRET."""
    try:
        click.echo(issue_token(Settings().jwt_secret, user_id, role, unit, name, timedelta(hours=hours)))
    except ValueError as error:  # a unit's role without --unit
        raise click.UsageError(str(error)) from None


def _bootstrap(service: str):
    import importlib

    return importlib.import_module(f"services.{service}.bootstrap").bootstrap()


@main.command()
@click.argument("service", type=click.Choice(SERVICE_NAMES))
@click.option("--stream", default=None, help="verify one stream only")
def verify(service: str, stream: str | None) -> None:
    """Re-walk a service's hash chains and name the first event that does not match; for followups also re-hash
    every 佐证材料 file an event references and name each one that is missing or changed."""
    context = _bootstrap(service)
    events = iter(context.store.iter_for_verification(stream))
    naming_files: list = []
    if service == "followups":  # one pass over the history for the chain and the files its events name
        events = _keeping_those_with_files(events, naming_files)
    result = verify_events(events)
    report = result.to_dict()
    damaged = []
    if service == "followups":
        from services.followups.adapters.evidence_store import damaged_files

        for _ in events:  # a broken link ends the chain's walk; the files of the events after it are checked too
            pass
        damaged = report["damaged_files"] = damaged_files(naming_files, context.dependencies["evidence"])
    click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    if not result.ok or damaged:
        raise SystemExit(1)


def _keeping_those_with_files(events, kept: list):
    """The events, passed on; those that name 佐证材料 files are also kept in ``kept``."""
    for event in events:
        if event.data.get("files"):
            kept.append(event)
        yield event


@main.command()
@click.argument("service", type=click.Choice(SERVICE_NAMES + ("portal",)))
def rebuild(service: str) -> None:
    """Rebuild a service's read models from its event store (the portal's: from the four topics).

    Stop the service's web and worker first: the rebuild empties the read models and their row counts, which
    running processes would go on writing to."""
    if service == "portal":
        from services.portal.adapters.feed import rebuild_from_topics

        model = rebuild_from_topics(Settings())
        click.echo(json.dumps({"events": model.events_applied, "digest": model.digest()}))
        click.echo("portal: read models rebuilt from the topics; compare the digest with the portal's /state",
                   err=True)
        return
    replayed = _bootstrap(service).rebuild_read_models()
    click.echo(f"{service}: read models rebuilt from {replayed} events")


@main.command("add-admin")
@click.option("--username", required=True, help="sign-in name, e.g. admin.wang")
@click.option("--name", required=True, help="the person's name, e.g. 王伟")
@click.option("--unit", default=None, help="their unit, if the directory has it already")
@click.password_option(help="the first password (asked for when not given)")
def add_admin(username: str, name: str, unit: str | None, password: str) -> None:
    """Register an administrator straight into the directory's store (the first one of a new installation).

    Run where the directory's database is reachable (MONGO_URL, DUBAN_DB_PREFIX); the event's actor is the CLI."""
    from shared.bus import CommandContext
    from shared.envelope import Actor
    from shared.errors import DubanError
    from services.directory.domain.commands import RegisterPerson

    command = RegisterPerson(username=username, name=name, unit=unit, roles=(Role.ADMIN,), password=password)
    try:
        person_id = _bootstrap("directory").bus.handle(command, CommandContext.fresh(Actor.system("duban add-admin")))
    except DubanError as error:
        raise click.ClickException(error.message_zh) from None
    click.echo(f"administrator {username} registered ({person_id}); sign in to the portal with this password")


def _register_service_commands() -> None:
    from services.cli_lifecycle import COMMANDS as lifecycle_commands
    from services.tasks.cli import plan

    main.add_command(plan)
    for command in lifecycle_commands:  # notice issue, overdue, timeline
        main.add_command(command)


_register_service_commands()
