"""The in-process runner of these tests (`roster_cli`) answers exactly as the installed `roster`
command does (`roster_command`): the same stdout, stderr and exit code, for a table, an answer
with exit code 1, refusals with exit code 2 and a usage error."""

from __future__ import annotations

import logging

from tests.domain.builders import EMAIL_OR_ID, identify, suppress


def test_a_command_run_in_process_answers_byte_for_byte_as_the_installed_command(
    roster_cli, roster_command, apply, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "120")
    apply(identify(EMAIL_OR_ID, "same-ada", email="ada@example.com"))
    apply(suppress(EMAIL_OR_ID, "same-ada"))
    handlers = logging.getLogger().handlers[:]
    for args in (
        ("suppressions", "list"),
        ("suppressions", "check", "--id", "never-suppressed"),
        ("suppressions", "check", "--email", "ada@example.com", "--json"),
        ("delete", "--from-csv", "no-such.csv"),
        ("unmerge", "no-such-person"),
        ("suppressions", "list", "--limit", "many"),
    ):
        real, in_process = roster_command(*args), roster_cli(*args)
        assert (in_process.returncode, in_process.stdout, in_process.stderr) == (
            real.returncode,
            real.stdout,
            real.stderr,
        ), args
    assert logging.getLogger().handlers == handlers
