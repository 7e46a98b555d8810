"""The README documents what the code does: every setting and every row of the error table."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import errors
from service.config import OPTIONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("option", OPTIONS, ids=[o.field for o in OPTIONS])
def test_readme_lists_every_setting(option: object) -> None:
    from service.config import Option

    assert isinstance(option, Option)
    assert f"`{option.env}`" in README
    if not option.env_only:
        assert f"`{option.flag}`" in README


@pytest.mark.parametrize("aws_code", sorted(errors.AWS_ERRORS))
def test_readme_error_table_names_every_mapped_aws_code(aws_code: str) -> None:
    rule = errors.AWS_ERRORS[aws_code]
    rows = [line for line in README.splitlines() if f"`{aws_code}`" in line]
    assert any(f"`{rule.code.name}`" in row for row in rows), aws_code


def test_readme_has_the_two_commands() -> None:
    assert ".venv/bin/cloudfront-facade --emulator" in README
    assert ".venv/bin/python -m pytest" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    test_command = next(line for line in README.splitlines() if line.endswith("-m pytest"))
    assert test_command in ci
