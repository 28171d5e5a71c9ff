"""Bad input gets a clear bilingual error, never a crash; `plan parse` prints the JSON."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from plan_helpers import DOCUMENTS, read_document

from services.tasks.cli import plan
from services.tasks.plan_import import (
    MAX_BYTES,
    PlanParseError,
    decode_document,
    parse_plan,
)

REPO = Path(__file__).resolve().parents[3]


def _error(call) -> PlanParseError:
    with pytest.raises(PlanParseError) as caught:
        call()
    message = str(caught.value)
    assert " / " in message
    zh, en = message.split(" / ", 1)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert len(re.findall(r"[A-Za-z]+", en)) >= 3  # an English sentence
    return caught.value


# ---------------------------------------------------------------------- parse_plan / decode_document

@pytest.mark.parametrize("text", ["", "   \n\t  \n", "\u3000\u3000"])
def test_empty_text(text):
    assert _error(lambda: parse_plan(text)).code == "empty"


def test_empty_bytes():
    assert _error(lambda: decode_document(b"")).code == "empty"


def test_binary_bytes():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    assert _error(lambda: decode_document(png)).code == "binary"
    assert _error(lambda: parse_plan(png)).code == "binary"


def test_binary_without_nul_bytes():
    noise = bytes((i * 37 + 11) % 255 + 1 for i in range(4000))  # no NUL, many control bytes
    with pytest.raises(PlanParseError) as caught:
        parse_plan(noise)
    assert caught.value.code in {"binary", "not_chinese"}


def test_binary_text_string():
    assert _error(lambda: parse_plan("一、工作\x00\x01\x02\x03" * 50)).code == "binary"


def test_not_chinese():
    english = "Annual work plan of the education supervision office. 1. Improve supervision.\n" * 50
    assert _error(lambda: parse_plan(english)).code == "not_chinese"


def test_too_large_text_and_bytes():
    assert _error(lambda: parse_plan("督" * (MAX_BYTES + 1))).code == "too_large"
    assert _error(lambda: decode_document(b"a" * (MAX_BYTES + 1))).code == "too_large"


def test_chinese_without_any_structure():
    prose = "今天天气很好，我们去公园散步，看到很多人在锻炼身体。" * 5
    assert _error(lambda: parse_plan(prose)).code == "no_structure"


def test_wrong_type():
    assert _error(lambda: parse_plan(None)).code == "bad_type"
    assert _error(lambda: decode_document("text")).code == "bad_type"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_encodings(encoding):
    text = read_document("anhui-2020-workplan.txt")
    assert decode_document(text.encode(encoding)) == text
    assert parse_plan(text.encode(encoding)) == parse_plan(text)


# ---------------------------------------------------------------------- the CLI

def test_cli_prints_the_json():
    result = CliRunner().invoke(plan, ["parse", str(DOCUMENTS / "langxi-2023-workplan.txt")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == json.loads(json.dumps(parse_plan(read_document("langxi-2023-workplan.txt"))))
    assert data["doc_number"] == "郎教督〔2023〕3号"
    assert '"title": "2023年郎溪县教育督导工作计划"' in result.stdout  # ensure_ascii=False
    assert result.stdout.startswith('{\n  "title"')  # indent=2


def test_cli_reads_stdin():
    data = (DOCUMENTS / "anhui-2020-workplan.txt").read_bytes()
    result = CliRunner().invoke(plan, ["parse", "-"], input=data)
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["sections"]) == 7


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "文档为空"),
        (b"\x00\x01\x02binary\xff\xfe\x00" * 100, "binary"),
        (b"just some English words, nothing else\n" * 20, "not Chinese"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, content, needle):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    result = CliRunner().invoke(plan, ["parse", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert needle in result.stderr and "Error:" in result.stderr


def test_cli_missing_file_and_directory(tmp_path):
    missing = CliRunner().invoke(plan, ["parse", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    directory = CliRunner().invoke(plan, ["parse", str(tmp_path)])
    assert directory.exit_code == 2 and "not a file" in directory.stderr


def test_cli_rejects_a_large_file_before_reading_it(tmp_path):
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: nothing is written or read
    result = CliRunner().invoke(plan, ["parse", str(path)])
    assert result.exit_code == 2 and "5 MB" in result.stderr


def test_cli_as_a_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    good = subprocess.run(
        [sys.executable, "-m", "services.tasks.cli", "parse", str(DOCUMENTS / "bazhong-2020-report.txt")],
        capture_output=True, cwd=REPO, env=env, timeout=60, check=False,
    )
    assert good.returncode == 0, good.stderr.decode()
    assert json.loads(good.stdout.decode("utf-8"))["sections"][0]["items"][0]["number"] == "一是"
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(range(256)) * 10)
    failed = subprocess.run(
        [sys.executable, "-m", "services.tasks.cli", "parse", str(bad)],
        capture_output=True, cwd=REPO, env=env, timeout=60, check=False,
    )
    assert failed.returncode == 2
    assert failed.stdout == b""
    assert "二进制" in failed.stderr.decode("utf-8") and "binary" in failed.stderr.decode("utf-8")


def test_duban_command_group_has_plan_parse():
    duban = pytest.importorskip("services.cli", reason="the duban entry point is not importable here")
    result = CliRunner().invoke(duban.main, ["plan", "parse", str(DOCUMENTS / "anhui-2020-workplan.txt")])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["year"] == 2020
