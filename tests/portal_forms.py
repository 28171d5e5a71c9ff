"""A Flask test client that sends the portal's form token with every form it posts, as the portal's own pages do."""
from __future__ import annotations

from flask.testing import FlaskClient

from services.portal.entrypoints.api import CSRF_FIELD

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


class FormClient(FlaskClient):
    """Posts carry the token the session was given at sign-in (a form that names ``csrf_token`` itself is sent as it is).

    Use it with ``app.test_client_class = FormClient``; tests of the refusal use Flask's own client.
    """

    def open(self, *args, **kwargs):
        method = str(kwargs.get("method", "GET")).upper()
        path = str(args[0]) if args else str(kwargs.get("path", ""))
        if method in STATE_CHANGING and not path.startswith("/login"):
            data = kwargs.get("data")
            if data is None or isinstance(data, dict):
                data = dict(data or {})  # a copy: tests reuse their form dicts
                data.setdefault(CSRF_FIELD, self.form_token())
                kwargs["data"] = data
        return super().open(*args, **kwargs)

    def form_token(self) -> str:
        """The token the portal keeps in this browser's session (and puts in every form it renders)."""
        with self.session_transaction() as session:
            token = session.get(CSRF_FIELD)
        assert token, "no form token in the session: sign in first (the portal gives one at sign-in)"
        return token
