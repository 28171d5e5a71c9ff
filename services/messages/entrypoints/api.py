"""HTTP API of the messages service: a person's inbox (站内消息), and the deliveries office staff watch and retry."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.auth import Role
from shared.errors import Forbidden, NotFound
from shared.openapi import FILLED_TEXT
from shared.web import allow, command_context, create_service_app, current_actor, current_context, page_newest_first
from services.messages.adapters.read_models import MessageView
from services.messages.bootstrap import bootstrap
from services.messages.domain import commands as c
from services.messages.domain.model import Status

inbox = Blueprint("inbox", __name__, url_prefix="/inbox", description="站内消息 a person's in-portal messages")
messages = Blueprint("messages", __name__, url_prefix="/messages", description="消息投递 every delivery and its outcome")

# Who watches every delivery (and the dead-letter list); office staff also send a failed one again.
DELIVERY_READERS = (Role.OFFICE_STAFF, Role.INSPECTOR, Role.AUDITOR)
CHANNELS = ("inbox", "email", "sms", "wecom", "dingtalk")


class MessageSchema(Schema):
    id = fields.String()
    rule = fields.String()
    channel = fields.String(metadata={"description": "inbox, email, sms, wecom (企业微信群), dingtalk (钉钉群)"})
    recipient = fields.String(allow_none=True)
    recipient_name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    address = fields.String(allow_none=True, metadata={"description": "e-mail address or mobile (unmasked: the office "
                                                                      "needs it to mend a failed delivery)"})
    subject = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    notice_id = fields.String(allow_none=True)
    case_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "; ".join(f"{k} {v}" for k, v in Status.LABELS_ZH.items())})
    attempts = fields.Integer()
    due_at = fields.String(allow_none=True)
    answer = fields.String(allow_none=True, metadata={"description": "the gateway's answer to the sending"})
    last_error = fields.String(allow_none=True)
    queued_at = fields.DateTime()
    sent_at = fields.String(allow_none=True)
    read_at = fields.String(allow_none=True)
    version = fields.Integer()


class InboxQuerySchema(Schema):
    unread = fields.Boolean(metadata={"description": "true: only unread messages"})


class UnreadSchema(Schema):
    unread = fields.Integer()


class DeliveryQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(tuple(Status.LABELS_ZH)))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    notice_id = fields.String(validate=validate.Length(min=1, max=200))
    case_id = fields.String(validate=validate.Length(min=1, max=200))
    recipient = fields.String(validate=validate.Length(min=1, max=100))


class RetrySchema(Schema):
    reason = fields.String(load_default="", validate=[validate.Length(max=500), FILLED_TEXT])


# -- a person's inbox ----------------------------------------------------------------------------------

@inbox.route("", methods=["GET"])
@inbox.arguments(InboxQuerySchema, location="query")
@inbox.response(200, MessageSchema(many=True))
@inbox.paginate()
def list_inbox(query, pagination_parameters):
    """The signed-in person's messages, newest first."""
    equality = {"recipient": current_actor().user_id, "channel": "inbox"}
    if query.get("unread"):
        equality["status"] = Status.UNREAD
    return page_newest_first(MessageView, pagination_parameters, equality)


@inbox.route("/unread", methods=["GET"])
@inbox.response(200, UnreadSchema)
def unread_count():
    """How many of the signed-in person's messages are unread (the portal's header shows it)."""
    return {"unread": MessageView.objects(recipient=current_actor().user_id, status=Status.UNREAD).count()}


@inbox.route("/<message_id>/read", methods=["POST"])
@inbox.response(200, MessageSchema)
def mark_read(message_id):
    """Mark one of one's own messages read."""
    _handle(c.MarkRead(message_id))
    return _message_or_404(message_id)


# -- deliveries ----------------------------------------------------------------------------------------

@messages.route("", methods=["GET"])
@allow(*DELIVERY_READERS)
@messages.arguments(DeliveryQuerySchema, location="query")
@messages.response(200, MessageSchema(many=True))
@messages.paginate()
def list_messages(query, pagination_parameters):
    """Every delivery, newest first: ``status=dead`` is the dead-letter list (待处理)."""
    return page_newest_first(MessageView, pagination_parameters, dict(query))


@messages.route("/<message_id>", methods=["GET"])
@messages.response(200, MessageSchema)
def get_message(message_id):
    """One message with its delivery state (its recipient, or those who watch deliveries)."""
    row = _message_or_404(message_id)
    actor = current_actor()
    if row.recipient != actor.user_id and actor.role not in (*DELIVERY_READERS, Role.ADMIN):
        raise Forbidden("another person's message", "只能查看本人的消息")
    return row


@messages.route("/<message_id>/retry", methods=["POST"])
@allow(Role.OFFICE_STAFF)
@messages.arguments(RetrySchema)
@messages.response(200, MessageSchema)
def retry_message(payload, message_id):
    """Send a failed (dead-lettered) message again, e.g. after its address or gateway was mended (office staff)."""
    _handle(c.RequeueMessage(message_id, payload["reason"]))
    return _message_or_404(message_id)


def _handle(command):
    return current_context().bus.handle(command, command_context())


def _message_or_404(message_id: str) -> MessageView:
    row = MessageView.objects(id=message_id).first()
    if row is None:
        raise NotFound(f"message {message_id} not found", f"消息 {message_id} 不存在")
    return row


TITLE = "duban messages 消息提醒服务"
BLUEPRINTS = [inbox, messages]


def create_app():
    """gunicorn entry: ``services.messages.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, TITLE, BLUEPRINTS)
