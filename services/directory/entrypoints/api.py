"""HTTP API of the directory service: units, people, roles and sign-in."""
from __future__ import annotations

from datetime import timedelta

from flask import request
from flask_smorest import Blueprint

from shared.auth import Role, issue_token, require_role
from shared.bus import CommandContext
from shared.envelope import Actor, utc_now
from shared.errors import Forbidden, NotFound
from shared.openapi import RETRY_AFTER_HEADER, ErrorSchema
from shared.web import allow, command_context, current_actor, current_context, create_service_app
from services.directory.adapters.read_models import PersonView, UnitView
from services.directory.bootstrap import bootstrap
from services.directory.domain import commands as c
from services.directory.domain.model import person_id_for, unit_id_for
from services.directory.entrypoints.schemas import (
    DisableSchema,
    EnableSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    PersonDetailsSchema,
    PersonInSchema,
    PersonQuerySchema,
    PersonRolesSchema,
    PersonSchema,
    PersonUnitSchema,
    SessionSchema,
    SignInSchema,
    UnitChangeSchema,
    UnitInSchema,
    UnitMergeSchema,
    UnitMoveSchema,
    UnitQuerySchema,
    UnitSchema,
)

units = Blueprint("units", __name__, url_prefix="/units", description="单位名录 units and their hierarchy")
people = Blueprint("people", __name__, url_prefix="/people", description="人员与账号 people, roles and accounts")
sessions = Blueprint("sessions", __name__, url_prefix="/sessions", description="登录 sign-in")

# Who may read everyone's entry (contacts included); others read their own unit's people and themselves.
DIRECTORY_READERS = (Role.OFFICE_STAFF, Role.INSPECTOR, Role.AUDITOR)


# -- units ---------------------------------------------------------------------------------------------

@units.route("", methods=["GET"])
@units.arguments(UnitQuerySchema, location="query")
@units.response(200, UnitSchema(many=True))
@units.paginate()
def list_units(query, pagination_parameters):
    """Every unit (by name), filtered by exact name, kind, parent or standing."""
    rows = UnitView.objects(id=unit_id_for(query["name"])) if "name" in query else UnitView.objects(
        **{k: query[k] for k in ("kind", "parent", "active") if k in query})
    return _page(sorted(rows, key=lambda u: u.name), pagination_parameters)


@units.route("", methods=["POST"])
@allow()
@units.arguments(UnitInSchema)
@units.response(201, UnitSchema)
def register_unit(payload):
    """Register a unit under its parent (administrators)."""
    return _unit_or_404(_handle(c.RegisterUnit(**payload)))


@units.route("/<unit_id>", methods=["GET"])
@units.response(200, UnitSchema)
def get_unit(unit_id):
    return _unit_or_404(unit_id)


@units.route("/<unit_id>/changes", methods=["POST"])
@allow()
@units.arguments(UnitChangeSchema)
@units.response(200, UnitSchema)
def change_unit(payload, unit_id):
    """Change a unit's kind, short name or region code (administrators)."""
    return _unit_or_404(_handle(c.ChangeUnit(unit_id, **payload)))


@units.route("/<unit_id>/parent", methods=["POST"])
@allow()
@units.arguments(UnitMoveSchema)
@units.response(200, UnitSchema)
def move_unit(payload, unit_id):
    """Put a unit under another parent, e.g. a school to another district (administrators)."""
    return _unit_or_404(_handle(c.MoveUnit(unit_id, payload["parent"], payload["expected_version"])))


@units.route("/<unit_id>/merger", methods=["POST"])
@allow()
@units.arguments(UnitMergeSchema)
@units.response(200, UnitSchema)
def merge_unit(payload, unit_id):
    """撤并: the unit is merged into another; its history stays under its own name (administrators)."""
    return _unit_or_404(_handle(c.MergeUnit(unit_id, payload["merged_into"], payload["expected_version"])))


# -- people --------------------------------------------------------------------------------------------

@people.route("", methods=["GET"])
@people.arguments(PersonQuerySchema, location="query")
@people.response(200, PersonSchema(many=True))
@people.paginate()
def list_people(query, pagination_parameters):
    """People (by unit, then name), filtered by unit, role or standing; other roles see their own unit's."""
    actor = current_actor()
    filters = {k: query[k] for k in ("unit", "active") if k in query}
    if actor.role not in DIRECTORY_READERS + (Role.ADMIN,):
        if filters.get("unit", actor.unit) != actor.unit:
            raise Forbidden("only your own unit's people", "只能查看本单位人员")
        filters["unit"] = actor.unit
    rows = [p for p in PersonView.objects(**filters) if "role" not in query or query["role"] in p.roles]
    return _page(sorted(rows, key=lambda p: (p.unit or "", p.name or "")), pagination_parameters)


@people.route("", methods=["POST"])
@allow()
@people.arguments(PersonInSchema)
@people.response(201, PersonSchema)
def register_person(payload):
    """Register a person with their unit, roles and first password (administrators)."""
    return _person_or_404(_handle(c.RegisterPerson(**{**payload, "roles": tuple(payload["roles"])})))


@people.route("/me", methods=["GET"])
@people.response(200, PersonSchema)
def whoami():
    """The signed-in person's own entry."""
    return _readable_person(person_id_for(current_actor().user_id))


@people.route("/<person_id>", methods=["GET"])
@people.response(200, PersonSchema)
def get_person(person_id):
    return _readable_person(person_id)


@people.route("/<person_id>/details", methods=["POST"])
@allow()
@people.arguments(PersonDetailsSchema)
@people.response(200, PersonSchema)
def change_details(payload, person_id):
    """Change a person's name, mobile or e-mail (administrators)."""
    return _person_or_404(_handle(c.ChangePersonDetails(person_id, **payload)))


@people.route("/<person_id>/unit", methods=["POST"])
@allow()
@people.arguments(PersonUnitSchema)
@people.response(200, PersonSchema)
def move_person(payload, person_id):
    """Move a person to another unit; their sessions end (administrators)."""
    return _person_or_404(_handle(c.MovePerson(person_id, payload["unit"], payload["expected_version"])))


@people.route("/<person_id>/roles", methods=["POST"])
@allow()
@people.arguments(PersonRolesSchema)
@people.response(200, PersonSchema)
def set_roles(payload, person_id):
    """Grant and take away roles; the person's sessions end (administrators)."""
    return _person_or_404(_handle(c.SetRoles(person_id, tuple(payload["roles"]), payload["expected_version"])))


@people.route("/<person_id>/disable", methods=["POST"])
@allow()
@people.arguments(DisableSchema)
@people.response(200, PersonSchema)
def disable_person(payload, person_id):
    """Disable an account with a reason; its sessions end at once everywhere (administrators)."""
    return _person_or_404(_handle(c.DisablePerson(person_id, payload["reason"], payload["expected_version"])))


@people.route("/<person_id>/enable", methods=["POST"])
@allow()
@people.arguments(EnableSchema)
@people.response(200, PersonSchema)
def enable_person(payload, person_id):
    return _person_or_404(_handle(c.EnablePerson(person_id, payload["expected_version"])))


@people.route("/<person_id>/password", methods=["POST"])
@people.arguments(PasswordChangeSchema)
@people.response(200, PersonSchema)
def change_password(payload, person_id):
    """Change one's own password (the current one is asked for); other sessions end."""
    return _person_or_404(_handle(c.ChangePassword(person_id, payload["current_password"], payload["new_password"])))


@people.route("/<person_id>/password-reset", methods=["POST"])
@allow()
@people.arguments(PasswordResetSchema)
@people.response(200, PersonSchema)
def reset_password(payload, person_id):
    """Set a new password for someone who lost theirs; their sessions end (administrators)."""
    return _person_or_404(_handle(c.ResetPassword(person_id, payload["new_password"])))


# -- sign-in -------------------------------------------------------------------------------------------

@sessions.route("", methods=["POST"])
@sessions.arguments(SignInSchema)
@sessions.response(201, SessionSchema)
@sessions.alt_response(429, schema=ErrorSchema, headers={"Retry-After": RETRY_AFTER_HEADER},
                       description="too many failed sign-ins for this account or from this address: retry later")
@sessions.doc(security=[])  # the one operation without a token: it is how one gets a token
def sign_in(payload):
    """Sign in with username and password: a bearer token for every service.

    401 for a wrong username or password (alike, in the same time), 403 for a disabled account, 429 after
    repeated failures (5 per account or 20 per address within 15 minutes lock for 15 minutes)."""
    context = current_context()
    address = client_address(context.settings.trusted_proxies)
    anonymous = CommandContext.fresh(Actor(user_id=f"anonymous@{address}", role="system", name="登录"))
    person, role = context.bus.handle(c.SignIn(payload["username"], payload["password"], address, payload["role"]),
                                      anonymous)
    hours = context.settings.session_hours
    token = issue_token(context.settings.jwt_secret, person.username, role, person.unit, person.name,
                        ttl=timedelta(hours=hours), epoch=person.epoch)
    return {"token": token, "expires_at": utc_now() + timedelta(hours=hours), "role": role,
            "person": _person_or_404(person.id)}


def client_address(trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address; for a trusted proxy (the portal), the client it names in X-Forwarded-For."""
    remote = request.remote_addr or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and remote in trusted_proxies:
        return forwarded.split(",")[-1].strip()[:100] or remote
    return remote


# -- helpers -------------------------------------------------------------------------------------------

def _handle(command):
    return current_context().bus.handle(command, command_context())


def _page(rows: list, pagination_parameters) -> list:
    pagination_parameters.item_count = len(rows)
    start = pagination_parameters.first_item
    return rows[start:start + pagination_parameters.page_size]


def _unit_or_404(unit_id: str) -> UnitView:
    unit = UnitView.objects(id=unit_id).first()
    if unit is None:
        raise NotFound(f"unit {unit_id} not found", f"单位 {unit_id} 不存在")
    return unit


def _person_or_404(person_id: str) -> PersonView:
    person = PersonView.objects(id=person_id).first()
    if person is None:
        raise NotFound(f"person {person_id} not found", f"人员 {person_id} 不存在")
    return person


def _readable_person(person_id: str) -> PersonView:
    person = _person_or_404(person_id)
    actor = current_actor()
    if person.username != actor.user_id and person.unit != actor.unit:
        require_role(actor, *DIRECTORY_READERS)
    return person


def create_app():
    """gunicorn entry: ``services.directory.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, TITLE, BLUEPRINTS, public_paths=PUBLIC_PATHS)


TITLE = "duban directory 单位与人员名录服务"
BLUEPRINTS = [units, people, sessions]
PUBLIC_PATHS = ("/sessions",)  # signing in is how a token is had
