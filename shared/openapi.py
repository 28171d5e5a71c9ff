"""What every service's API promises, in its OpenAPI document and in what it enforces for every list.

- ``ErrorSchema``: the one error body every service sends (``shared.errors.DubanError.to_body`` and the handlers
  of shared/web.py), registered as flask-smorest's error schema, so the documented ``Error`` is the real one.
- ``ErrorResponsesPlugin``: documents the errors each operation can answer: 401 and 503 for all of them,
  403 where a role or a read scope may refuse, 404 where a path names an item, 409 and 422 for commands.
- Pagination: one bound for every paginated list (``page`` ≤ ``MAX_PAGE``, ``page_size`` ≤ ``MAX_PAGE_SIZE``), so
  the row a page starts at stays a small number (a page of 10^20 used to reach the database and fail there);
  ``X-Pagination`` documented as the JSON it is (``PaginationMetadataSchema``: flask-smorest's fields, or
  ``page``, ``page_size`` and ``has_more`` for a long filtered list, see shared.web.page_newest_first).
- ``RequestPlugin``: what the services refuse in a request, said in the document: each text of a request (a
  body's strings, query and path parameters) gets ``text.TEXT_PATTERN``, so no control character but tab and
  line breaks is schema-valid (shared/web.py refuses them); ``FILLED_TEXT`` marks text that must not be blank.
  A schema's rules across its fields (e.g. which notice kinds may come without problems) are its
  ``OPENAPI_RULES``, JSON Schema keywords added to its component. A JSON body that requires nothing may be
  left out. JSON bodies take JSON types as they are (``JsonBoolean``, ``fields.Integer(strict=True)``).
"""
from __future__ import annotations

import copy
import functools
import http

import marshmallow as ma
from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest import pagination as smorest_pagination
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser

from shared import text

MAX_PAGE = 100_000
MAX_PAGE_SIZE = 100  # flask-smorest's default maximum, which no list raises
RETRY_AFTER_HEADER = {"description": "seconds to wait before retrying", "schema": {"type": "integer", "minimum": 1}}
_METHODS = ("get", "head", "post", "put", "patch", "delete")


class ErrorSchema(ma.Schema):
    """Every error answer of every service (4xx and 5xx alike)."""

    class Meta:
        ordered = True

    code = ma.fields.String(required=True, metadata={
        "description": "what went wrong, for programs: invalid_input, unauthorized, forbidden, not_found, "
                       "version_conflict, illegal_transition, idempotency_key_in_progress, service_unavailable, …",
        "example": "not_found"})
    status = ma.fields.Integer(required=True, metadata={"description": "the HTTP status of the answer", "example": 404})
    message = ma.fields.String(required=True, metadata={"description": "the reason in English"})
    message_zh = ma.fields.String(required=True, metadata={"description": "the reason in Chinese (shown to users)"})
    details = ma.fields.Dict(metadata={"description": "what the reason is about, e.g. {\"field\": \"title\"} or the "
                                                      "stream and versions of a conflict"})
    errors = ma.fields.Dict(metadata={"description": "422 only: the invalid fields by location, each with its "
                                                     "messages, e.g. {\"json\": {\"title\": [\"…\"]}}"})
    correlation_id = ma.fields.String(allow_none=True, metadata={
        "description": "5xx only: the request's id in the logs (also in the X-Correlation-ID header)"})


class PaginationMetadataSchema(smorest_pagination.PaginationMetadataSchema):
    """What ``X-Pagination`` holds, as JSON: flask-smorest's fields where the total is known, else (a long
    filtered list, shared.web.page_newest_first) the page, its size and whether another page may follow."""

    page_size = ma.fields.Int(metadata={"description": "Items per page (only where the total is not given)."})
    has_more = ma.fields.Bool(metadata={"description": "Whether a next page may hold items (only where the total "
                                                      "is not given)."})


PAGINATION_HEADER = {
    "description": "Pagination metadata, a JSON object: total, total_pages, first_page, last_page, page, "
                   "previous_page, next_page; or, for a long filtered list, page, page_size and has_more",
    # a JSON value, not the simple style a header ``schema`` would mean (``total,3,page,1``)
    "content": {"application/json": {"schema": PaginationMetadataSchema}},
}

# A text field that must say something (a reason, a summary, findings): the domain refuses one that is blank
# (``shared.errors.require_text``); with this validator the schema refuses it first and documents it as a pattern.
FILLED_TEXT = ma.validate.Regexp(text.FILLED_TEXT_PATTERN,
                                 error="must contain text, not only spaces or line breaks / 不能为空白")


class StepSchema(ma.Schema):
    """A command recording a step: the day it happened (业务日期), and for a 补录 why it is recorded later.

    An earlier day is office staff's power and needs ``backfill_reason`` (shared/backfill.py decides; it
    depends on today, so it is not a schema rule)."""

    occurred_on = ma.fields.Date(load_default=None, allow_none=True, metadata={
        "description": "业务日期: the day the step happened; default today, never in the future. An earlier day "
                       "is a 补录 (office staff only, with backfill_reason), not before the notice's issue date "
                       "nor the case's previous step"})
    backfill_reason = ma.fields.String(load_default=None, allow_none=True,
                                       validate=[ma.validate.Length(min=1, max=500), FILLED_TEXT],
                                       metadata={"description": "补录说明: why the step is recorded after its day"})


def step_arguments(payload: dict) -> dict:
    """A loaded ``StepSchema`` body's step fields, as the command (shared.backfill.StepCommand) takes them."""
    return {"occurred_on": payload["occurred_on"], "backfill_reason": payload["backfill_reason"]}


class JsonBoolean(ma.fields.Boolean):
    """A boolean of a JSON body: ``true`` or ``false`` only, as documented (marshmallow's Boolean also takes 1,
    "yes", "on" … — right for a query string or a form, not for JSON). Integers in JSON bodies are
    ``fields.Integer(strict=True)`` likewise (2.5 is no integer; marshmallow would make it 2)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class ErrorResponsesPlugin(BasePlugin):
    """An apispec plugin adding the error answers every operation of a duban service really has."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            names_item = "{" in (path or "")
            statuses = [401, 503]
            if method == "post" or names_item:
                statuses.append(403)  # a role (see the description) or, for an item, the caller's read scope
            if names_item:
                statuses.append(404)
            if method == "post":
                statuses += [409, 422]  # a conflict or illegal transition; Idempotency-Key and body checks
            if _is_paginated(operation):
                statuses.append(422)
            for status in statuses:
                if status not in responses and str(status) not in responses:
                    responses[status] = http.HTTPStatus(status).name
            operation.setdefault("security", [{"bearer": []}])
            if operation.get("x-roles"):
                roles = "Roles: " + ", ".join(operation["x-roles"]) + " (403 for any other)."
                operation["description"] = f"{operation['description']}\n\n{roles}" if operation.get("description") else roles
            _document_page_bound(operation)


class RequestPlugin(BasePlugin):
    """What a request may hold, as the services take it.

    - Every text: no control character but tab and line breaks. Adds ``text.TEXT_PATTERN`` to each string schema
      of a request (body, query, path) that has no format, enum or pattern of its own, following ``$ref``s into
      the components; response schemas are left alone (stored text may predate the check).
    - A schema's ``OPENAPI_RULES`` (JSON Schema keywords for what its fields cannot say one by one) are added to
      its component.
    - A JSON body whose schema requires nothing is optional: a request without one is read as ``{}``.
    """

    def init_spec(self, spec):
        super().init_spec(spec)
        self.spec = spec

    def schema_helper(self, name, definition, **kwargs):
        rules = getattr(kwargs.get("schema"), "OPENAPI_RULES", None)
        return dict(rules) if rules else None

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        for parameter in parameters or ():
            self._parameter(parameter)

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method not in _METHODS:
                continue
            for parameter in operation.get("parameters", ()):
                self._parameter(parameter)
            body = operation.get("requestBody") or {}
            for media in body.get("content", {}).values():
                if isinstance(media, dict) and isinstance(media.get("schema"), dict):
                    self._schema(media["schema"], set())
            if body and self._requires_nothing(body):
                body["required"] = False

    def _requires_nothing(self, body: dict) -> bool:
        content = body.get("content") or {}
        if list(content) != ["application/json"]:
            return False
        schema = self._resolved(content["application/json"].get("schema"))
        return (isinstance(schema, dict) and schema.get("type") == "object" and not schema.get("required")
                and not {"allOf", "anyOf", "oneOf"} & schema.keys())

    def _resolved(self, schema):
        reference = schema.get("$ref") if isinstance(schema, dict) else None
        if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
            name = reference.rsplit("/", 1)[-1]
            components = self.spec.components
            return components.schemas.get(name, components.schemas_lazy.get(name))
        return schema

    def _parameter(self, parameter) -> None:
        if isinstance(parameter, dict) and isinstance(parameter.get("schema"), dict):
            self._schema(parameter["schema"], set())

    def _schema(self, schema: dict, seen: set[str]) -> None:
        reference = schema.get("$ref")
        if isinstance(reference, str):
            name = reference.rsplit("/", 1)[-1]
            target = self._resolved(schema)
            if name not in seen and isinstance(target, dict):
                seen.add(name)
                self._schema(target, seen)
            return
        if schema.get("type") == "string" and not {"format", "enum", "pattern"} & schema.keys():
            schema["pattern"] = text.TEXT_PATTERN
        # not into ``not``: a pattern there would turn into what is refused
        children = [*(schema.get("properties") or {}).values(), schema.get("items"), schema.get("additionalProperties")]
        children += [branch for key in ("allOf", "anyOf", "oneOf") for branch in schema.get(key) or ()]
        for child in children:
            if isinstance(child, dict):
                self._schema(child, seen)


def _is_paginated(operation: dict) -> bool:
    names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict) and p.get("in") == "query"}
    return {"page", "page_size"} <= names


def _document_page_bound(operation: dict) -> None:
    if not _is_paginated(operation):
        return
    for parameter in operation["parameters"]:
        if isinstance(parameter, dict) and parameter.get("in") == "query" and isinstance(parameter.get("schema"), dict):
            bound = {"page": MAX_PAGE, "page_size": MAX_PAGE_SIZE}.get(parameter.get("name"))
            if bound is not None:
                parameter["schema"]["maximum"] = min(bound, parameter["schema"].get("maximum", bound))


class BoundedPaginationParser(FlaskParser):
    """flask-smorest's pagination arguments, with ``page`` bounded too (it checks only ``page`` ≥ 1).

    Out of bounds is the usual 422 for invalid input, naming ``page`` or ``page_size``.
    """

    def parse(self, argmap, req=None, **kwargs):
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            argmap = _bounded(argmap)
        return super().parse(argmap, req, **kwargs)


@functools.cache
def _bounded(schema: type[ma.Schema]) -> type[ma.Schema]:
    declared = schema._declared_fields
    if "page" not in declared or "page_size" not in declared:
        return schema
    return type(f"Bounded{schema.__name__}", (schema,), {
        "page": ma.fields.Integer(load_default=declared["page"].load_default,
                                  validate=ma.validate.Range(min=1, max=MAX_PAGE)),
        "page_size": ma.fields.Integer(load_default=declared["page_size"].load_default,
                                       validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)),
    })


PAGINATION_PARSER = BoundedPaginationParser()


class DubanApi(Api):
    """flask-smorest's Api with duban's error body, its documented error answers and the bounded pagination."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, *, spec_kwargs=None, **options):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), ErrorResponsesPlugin(),
                                        RequestPlugin()]
        super().__init__(app, spec_kwargs=spec_kwargs, **options)

    def register_blueprint(self, blp, *, parameters=None, **options):
        blp.PAGINATION_ARGUMENTS_PARSER = PAGINATION_PARSER  # read by @blp.paginate() on every request
        super().register_blueprint(blp, parameters=parameters, **options)

    def _register_responses(self):
        super()._register_responses()
        # A 503 says when to come back.
        response = {"description": "Service Unavailable: the database is not answering; retry after Retry-After "
                                   "seconds", "schema": self.ERROR_SCHEMA, "headers": {"Retry-After": RETRY_AFTER_HEADER}}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response(http.HTTPStatus.SERVICE_UNAVAILABLE.name, response, lazy=True)

    def _register_pagination_header(self):
        # flask-smorest documents X-Pagination with a header ``schema`` (simple style), but sends JSON
        self.spec.components.header("PAGINATION", copy.deepcopy(PAGINATION_HEADER), lazy=True)


def roles_doc(roles: tuple[str, ...]) -> dict:
    """The manual OpenAPI doc of an operation only ``roles`` may call (see shared.web.allow)."""
    return {"responses": {403: http.HTTPStatus.FORBIDDEN.name}, "x-roles": [str(role) for role in roles]}
