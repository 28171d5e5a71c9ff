"""Text the APIs refuse (and the patterns saying so in their OpenAPI documents) and spreadsheets cannot hold
(shared/text.py); a database that does not answer (shared/mongo.py)."""
from __future__ import annotations

import io
import re
import socket
import time

import mongoengine
import mongoengine.errors
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pymongo.errors import (AutoReconnect, DuplicateKeyError, ExecutionTimeout, NetworkTimeout, OperationFailure,
                            ServerSelectionTimeoutError, WTimeoutError)

from shared import mongo, text
from shared.config import Settings
from shared.errors import ServiceUnavailable

EVERY_CHARACTER_BELOW_U0100 = "".join(chr(code) for code in range(0x100))


class TestControlCharacters:
    def test_tab_line_feed_and_carriage_return_are_the_only_control_characters_text_may_hold(self):
        refused = {c for c in EVERY_CHARACTER_BELOW_U0100 if text.control_character(c)}
        expected = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))} - {"\t", "\n", "\r"}
        assert refused == expected

    def test_chinese_text_and_typographic_characters_are_not_control_characters(self):
        assert text.control_character("关于校舍安全隐患整改的督办通知（巴教督〔2026〕1号）—“限期”…\u3000\t\r\n") is None

    def test_the_first_control_character_of_a_json_body_is_found_with_its_path(self):
        body = {"title": "通知", "problems": [{"description": "ok"}, {"description": "危房\x07", "area": "x\x1b"}]}
        assert text.find_control_character(body) == (("problems", 1, "description"), "\x07")
        assert text.dotted(("problems", 1, "description")) == "problems.1.description"

    def test_keys_count_too_and_other_values_are_ignored(self):
        assert text.find_control_character({"a\x01": 1}) == (("a\x01",), "\x01")
        assert text.find_control_character({"n": 1, "b": True, "x": None, "l": [1.5]}) is None


# Every code point but the surrogates (no JSON string carries one to a text field: shared/web.py refuses them).
EVERY_CHARACTER = [chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]


def held_by_pattern(pattern: str) -> "re.Pattern":
    return re.compile(pattern, re.DOTALL)


class TestTextPatterns:
    """The JSON Schema patterns of the OpenAPI documents say what the web layer and the domain take."""

    def test_text_pattern_takes_exactly_the_characters_no_control_check_refuses(self):
        held = held_by_pattern(text.TEXT_PATTERN)
        assert [c for c in EVERY_CHARACTER if (held.fullmatch(c) is None) != bool(text.control_character(c))] == []
        assert held.fullmatch("关于校舍安全隐患整改的督办通知\t\r\n（巴教督〔2026〕1号）") and held.fullmatch("")
        assert not held.fullmatch("危房\x07未拆除") and not held.fullmatch("\x85")

    def test_filled_text_pattern_takes_what_is_neither_blank_nor_holding_a_control_character(self):
        held = held_by_pattern(text.FILLED_TEXT_PATTERN)
        blanks = [c for c in EVERY_CHARACTER if not c.strip() and not text.control_character(c)]
        assert not any(held.fullmatch(c) for c in blanks) and not held.fullmatch("".join(blanks))
        one = [c for c in EVERY_CHARACTER if (held.fullmatch(c) is None) != (not c.strip() or bool(text.control_character(c)))]
        assert one == []
        assert held.fullmatch(" \u3000\t整改\n") and held.fullmatch("x") and not held.fullmatch("\u3000 \n")
        assert not held.fullmatch(" 整改\x07") and not held.fullmatch("")

    @pytest.mark.parametrize("name", ["TEXT_PATTERN", "FILLED_TEXT_PATTERN"])
    def test_schemathesis_validates_with_the_same_characters(self, name):
        jsonschema_rs = pytest.importorskip("jsonschema_rs")
        pattern = getattr(text, name)
        python = held_by_pattern(pattern)
        schema = {"type": "string", "pattern": pattern}
        for options in ({}, {"pattern_options": jsonschema_rs.FancyRegexOptions()}):
            validator = jsonschema_rs.validator_for(schema, **options)
            samples = [*EVERY_CHARACTER[:0x3100], "\ufeff", "\U0001F600", " 整改 ", " \u3000\n", "整改\x9f", "a\n"]
            assert [s for s in samples if validator.is_valid(s) != bool(python.fullmatch(s))] == []

    def test_the_patterns_use_only_escapes_every_regex_dialect_reads_alike(self):
        for pattern in (text.TEXT_PATTERN, text.FILLED_TEXT_PATTERN):
            assert pattern.isascii() and pattern.startswith("^") and pattern.endswith("$")
            assert set(re.findall(r"\\(.)", pattern)) <= {"x", "u", "t", "n", "r"}  # no \s, \d, \w …


class TestSpreadsheetText:
    def test_everything_openpyxl_refuses_is_dropped_and_nothing_else_below_u0100(self):
        cleaned = text.for_spreadsheet(EVERY_CHARACTER_BELOW_U0100)
        assert not ILLEGAL_CHARACTERS_RE.search(cleaned)
        assert cleaned == "".join(c for c in EVERY_CHARACTER_BELOW_U0100 if not ILLEGAL_CHARACTERS_RE.match(c))

    def test_non_characters_and_lone_surrogates_are_dropped_too(self):
        assert text.for_spreadsheet("a\ufffeb\uffffc\ud800d") == "abcd"

    def test_what_is_left_is_written_and_read_back_by_openpyxl(self):
        dirty = "危房\x07未拆除\x0b（\x1b[31m）\t换行\n"
        sheet = Workbook()
        sheet.active.append([text.for_spreadsheet(dirty), text.for_spreadsheet(3), text.for_spreadsheet(2.5)])
        buffer = io.BytesIO()
        sheet.save(buffer)
        row = [cell.value for cell in load_workbook(io.BytesIO(buffer.getvalue())).active[1]]
        assert row == ["危房未拆除（[31m）\t换行\n", 3, 2.5]


class TestDatabaseUnavailable:
    @pytest.mark.parametrize("error", [
        ServerSelectionTimeoutError("no server"), NetworkTimeout("timed out"), AutoReconnect("reset"),
        ExecutionTimeout("exceeded time limit", 50), WTimeoutError("waiting for replication timed out", 64)])
    def test_pymongo_errors_of_a_server_that_does_not_answer(self, error):
        assert mongo.database_unavailable(error)

    @pytest.mark.parametrize("error", [
        DuplicateKeyError("E11000"), OperationFailure("bad query", 2), KeyError("x"),
        mongoengine.connection.ConnectionFailure("You have not defined a default connection"), None])
    def test_other_errors_are_not_an_outage(self, error):
        assert not mongo.database_unavailable(error)

    def test_an_outage_re_raised_by_mongoengine_is_found_through_the_chain(self):
        try:
            try:
                raise ExecutionTimeout("operation exceeded time limit", 50)
            except ExecutionTimeout as error:
                raise mongoengine.errors.OperationError(f"Could not save document ({error})")  # noqa: B904 - as mongoengine does
        except mongoengine.errors.OperationError as wrapped:
            assert mongo.database_unavailable(wrapped)

    def test_the_503_says_when_to_retry_in_both_languages(self):
        error = ServiceUnavailable("down", "暂不可用")
        assert error.status == 503 and error.headers == {"Retry-After": "5"}
        assert error.to_body() == {"code": "service_unavailable", "status": 503, "message": "down", "message_zh": "暂不可用"}


class TestClientTimeouts:
    def test_web_processes_bound_each_round_trip_more_tightly_than_workers(self, monkeypatch):
        settings = Settings(mongo_url="mongodb://127.0.0.1:1/", db_prefix="t")
        monkeypatch.setattr(mongo, "_serving_requests", False)
        batch = mongo.client_options(settings)
        monkeypatch.setattr(mongo, "_serving_requests", True)
        web = mongo.client_options(settings)
        # a web request: one budget per operation; a worker's cursor: a bound per round trip
        assert web == {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000, "timeoutMS": 8000}
        assert batch == {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000, "socketTimeoutMS": 120000}

    def test_the_timeouts_are_settings_read_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("DUBAN_MONGO_OPERATION_TIMEOUT_MS", "7000")
        monkeypatch.setenv("DUBAN_MONGO_BATCH_SOCKET_TIMEOUT_MS", "600000")
        monkeypatch.setenv("DUBAN_MONGO_SERVER_SELECTION_TIMEOUT_MS", "3000")
        monkeypatch.setenv("DUBAN_MONGO_CONNECT_TIMEOUT_MS", "2000")
        settings = Settings()
        assert (settings.mongo_operation_timeout_ms, settings.mongo_batch_socket_timeout_ms,
                settings.mongo_server_selection_timeout_ms, settings.mongo_connect_timeout_ms) == (7000, 600000, 3000, 2000)

    def test_every_connection_gets_the_timeouts(self, monkeypatch):
        seen = {}
        monkeypatch.setattr(mongoengine, "connect", lambda **options: seen.update(options))
        monkeypatch.setattr(mongoengine, "get_db", lambda alias: alias)
        monkeypatch.setattr(mongo, "_connected", {})
        monkeypatch.setattr(mongo, "_serving_requests", True)
        mongo.connect_service_database(Settings(mongo_url="mongodb://127.0.0.1:1/", db_prefix="t"), "probe")
        assert seen["timeoutMS"] == 8000 and seen["serverSelectionTimeoutMS"] == 5000
        assert seen["connectTimeoutMS"] == 5000

    def test_a_server_that_accepts_connections_but_never_answers_fails_in_bounded_time(self, monkeypatch):
        """A paused server: the kernel still completes the TCP handshake, nothing ever answers."""
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)  # never accepted, never answered
            port = silent.getsockname()[1]
            settings = Settings(mongo_url=f"mongodb://127.0.0.1:{port}/", db_prefix="silent",
                                mongo_server_selection_timeout_ms=800, mongo_connect_timeout_ms=500,
                                mongo_operation_timeout_ms=1000)
            monkeypatch.setattr(mongo, "_serving_requests", True)
            monkeypatch.setattr(mongo, "_connected", {})
            try:
                database = mongo.connect_service_database(settings, "silent-probe")
                started = time.monotonic()
                with pytest.raises(Exception) as failed:
                    database["probe"].find_one({"_id": "x"})
                assert time.monotonic() - started < 5
                assert mongo.database_unavailable(failed.value)
            finally:
                mongoengine.disconnect(alias="silent-probe")
