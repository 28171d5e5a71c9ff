"""Read models of the directory service (mongoengine documents, built only from its own events).

A directory holds hundreds to a few thousand units and people, so its lists are read whole and ordered in
Python; single rows are found by primary key (ids follow from names: domain/model.py unit_id_for, person_id_for).
"""
from __future__ import annotations

from mongoengine import BooleanField, DateTimeField, Document, IntField, ListField, StringField

from shared.envelope import EventEnvelope
from shared.read_models import Projection, in_order_update, insert_once

SERVICE = "directory"


class UnitView(Document):  # 单位（查询视图）
    meta = {"db_alias": SERVICE, "collection": "unit_view", "indexes": ["parent", "kind"]}

    id = StringField(primary_key=True)
    name = StringField(required=True)
    short_name = StringField()
    kind = StringField()
    parent = StringField()
    region_code = StringField()
    merged_into = StringField()
    active = BooleanField(default=True)
    registered_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntField(required=True)


class PersonView(Document):  # 人员（查询视图）
    meta = {"db_alias": SERVICE, "collection": "person_view", "indexes": ["unit"]}

    id = StringField(primary_key=True)
    username = StringField(required=True)
    name = StringField()
    unit = StringField()
    roles = ListField(StringField())
    mobile = StringField()
    email = StringField()
    active = BooleanField(default=True)
    epoch = IntField(default=1)
    registered_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntField(required=True)


def _unit_registered(event: EventEnvelope) -> None:
    data = event.data
    insert_once(UnitView(id=data["unit_id"], name=data["name"], short_name=data.get("short_name"), kind=data["kind"],
                         parent=data.get("parent"), region_code=data.get("region_code"), active=True,
                         registered_at=event.recorded_at, updated_at=event.recorded_at, version=event.version))


def _person_registered(event: EventEnvelope) -> None:
    data = event.data
    insert_once(PersonView(id=data["person_id"], username=data["username"], name=data["name"], unit=data.get("unit"),
                           roles=data["roles"], mobile=data.get("mobile"), email=data.get("email"), active=True,
                           epoch=data.get("epoch", 1), registered_at=event.recorded_at, updated_at=event.recorded_at,
                           version=event.version))


def _unit(changes):
    return in_order_update(UnitView, changes)


def _person(changes):
    return in_order_update(PersonView, changes)


PROJECTION = Projection({
    "UnitRegistered": _unit_registered,
    "UnitChanged": _unit(lambda e: {k: e.data.get(k) for k in ("kind", "short_name", "region_code")}),
    "UnitMoved": _unit(lambda e: {"parent": e.data.get("parent")}),
    "UnitMerged": _unit(lambda e: {"merged_into": e.data["merged_into"], "active": False}),
    "PersonRegistered": _person_registered,
    "PersonDetailsChanged": _person(lambda e: {k: e.data.get(k) for k in ("name", "mobile", "email")}),
    "PersonMoved": _person(lambda e: {"unit": e.data.get("unit"), "epoch": e.data["epoch"]}),
    "PersonRolesChanged": _person(lambda e: {"roles": e.data["roles"], "epoch": e.data["epoch"]}),
    "PersonDisabled": _person(lambda e: {"active": False, "epoch": e.data["epoch"]}),
    "PersonEnabled": _person(lambda e: {"active": True, "epoch": e.data["epoch"]}),
    "PasswordChanged": _person(lambda e: {"epoch": e.data["epoch"]}),
}, [UnitView, PersonView])
