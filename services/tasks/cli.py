"""``duban plan …``: commands for importing annual work plans (工作要点 / 工作计划)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from services.tasks.plan_import import (
    MAX_BYTES,
    PlanParseError,
    decode_document,
    parse_plan,
)


class PlanInputError(click.ClickException):
    """Bad input: printed as "Error: …" on stderr, exit code 2 (like a usage error)."""

    exit_code = 2


def _read_input(file: str) -> bytes:
    """Read FILE ("-" for stdin) without reading more than the size limit allows."""
    if file == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        path = Path(file)
        if path.is_dir():
            raise PlanInputError(f"不是文件：{file} / not a file: {file}")
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise PlanInputError(
                    f"文档过大（{size} bytes），上限为 5 MB / the document is too large ({size} bytes); the limit is 5 MB"
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise PlanInputError(f"文件不存在：{file} / no such file: {file}") from None
        except OSError as error:
            raise PlanInputError(f"无法读取文件：{file} / cannot read {file}: {error.strerror}") from None
    if len(data) > MAX_BYTES:
        raise PlanInputError("文档过大，上限为 5 MB / the document is too large; the limit is 5 MB")
    return data


@click.group()
def plan() -> None:
    """Annual work plans (工作要点 / 工作计划): parse and import."""


@plan.command("parse")
@click.argument("file", metavar="FILE")
def parse(file: str) -> None:
    """Parse FILE (a plan's text from a web page or PDF; "-" reads stdin) and print it as JSON."""
    data = _read_input(file)
    try:
        result = parse_plan(decode_document(data))
    except PlanParseError as error:
        raise PlanInputError(str(error)) from None
    output = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    # Bytes, so that a non-UTF-8 terminal locale cannot break the Chinese output.
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:
        click.echo(output, nl=False)
        return
    sys.stdout.flush()
    binary.write(output.encode("utf-8"))
    binary.flush()


if __name__ == "__main__":  # python -m services.tasks.cli parse FILE
    plan()
