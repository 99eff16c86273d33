"""``saleor-ops`` as a new user meets it: bad settings, a busy port, --help and --version."""

from __future__ import annotations

import argparse
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import __version__
from app.cli import build_parser, free_port, main


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env from the checkout and no APP_* from the machine leak into these runs."""
    monkeypatch.chdir(tmp_path)
    for name in ("APP_DATABASE_URL", "APP_PUBLIC_URL", "APP_SALEOR_MAX_ATTEMPTS", "APP_ALLOWED_SALEOR_URLS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


class TestBadSettings:
    @pytest.mark.parametrize(
        ("variable", "value", "says"),
        [
            pytest.param("APP_DATABASE_URL", "garbage", "APP_DATABASE_URL", id="database-url"),
            pytest.param("APP_DATABASE_URL", "mysql://u@h/db", "postgresql+asyncpg", id="unsupported-database"),
            pytest.param("APP_SALEOR_MAX_ATTEMPTS", "abc", "APP_SALEOR_MAX_ATTEMPTS", id="not-a-number"),
            pytest.param("APP_PUBLIC_URL", "notaurl", "APP_PUBLIC_URL", id="public-url"),
            pytest.param("APP_ALLOWED_SALEOR_URLS", "*", "APP_ALLOWED_SALEOR_URLS", id="allow-list-pattern"),
            pytest.param("APP_UNINSTALLED_GRACE_DAYS", "-1", "APP_UNINSTALLED_GRACE_DAYS", id="grace-days"),
            pytest.param("APP_WORKER_LEASE_SECONDS", "3", "APP_SALEOR_TIMEOUT_SECONDS", id="lease-shorter-than-a-call"),
        ],
    )
    @pytest.mark.parametrize("command", ["serve", "worker", "migrate", "manifest"])
    def test_give_one_clear_line_and_a_non_zero_exit(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        command: str,
        variable: str,
        value: str,
        says: str,
    ) -> None:
        monkeypatch.setenv(variable, value)
        assert main([command]) == 2
        line = _one_line_error(capsys)
        assert line.startswith("saleor-ops: ")
        assert says in line
        assert value in line

    def test_a_postgresql_database_that_does_not_exist_is_refused_before_serving(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        url = "postgresql+asyncpg://postgres@127.0.0.1:5432/saleor_ops_no_such_database"
        monkeypatch.setenv("APP_DATABASE_URL", url)
        assert main(["serve", "--port", "0"]) == 1
        line = _one_line_error(capsys)
        assert "saleor_ops_no_such_database" in line
        assert "APP_DATABASE_URL" in line


class TestWorkersNeedPostgreSQL:
    @pytest.mark.parametrize(
        ("argv", "says"),
        [
            pytest.param(["serve", "--workers", "2"], "--workers 2", id="web-processes"),
            pytest.param(["serve", "--no-worker"], "--no-worker", id="serve-without-its-worker"),
            pytest.param(["worker"], "`saleor-ops serve`", id="worker-apart"),
        ],
    )
    def test_on_the_embedded_sqlite_one_line_says_why_and_the_exit_is_2(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
    ) -> None:
        assert main(argv) == 2
        line = _one_line_error(capsys)
        assert says in line
        assert "PostgreSQL" in line
        assert not Path("var").exists()  # refused before anything was made

    @pytest.mark.parametrize(
        "argv", [["serve", "--workers", "0"], ["worker", "--concurrency", "many"], ["worker", "--concurrency", "999"]]
    )
    def test_a_count_from_1_to_256_is_asked_for(self, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        assert f"{argv[1]} takes a whole number from 1 to 256" in capsys.readouterr().err


class TestPorts:
    def test_a_port_in_use_names_the_flag_to_change(self, capsys: pytest.CaptureFixture[str], busy_port: int) -> None:
        assert main(["serve", "--port", str(busy_port)]) == 1
        line = _one_line_error(capsys)
        assert str(busy_port) in line
        assert "--port" in line

    def test_the_demo_refuses_a_port_it_was_told_to_use_when_it_is_taken(
        self, capsys: pytest.CaptureFixture[str], busy_port: int
    ) -> None:
        assert main(["demo", "--no-serve", "--standin-port", str(busy_port)]) == 1
        line = _one_line_error(capsys)
        assert str(busy_port) in line
        assert "--standin-port" in line


class TestHelp:
    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["--version"])
        assert exited.value.code == 0
        assert capsys.readouterr().out.strip() == f"saleor-ops {__version__}"

    def test_every_command_and_every_option_explains_itself(self) -> None:
        parser = build_parser()
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        assert commands.choices
        for name, command in commands.choices.items():
            assert command.description, f"{name} has no description"
            for action in command._actions:
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_make_run_listens_where_the_readme_says() -> None:
    root = Path(__file__).resolve().parents[2]
    recipe = (root / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    flags = dict(re.findall(r"--(host|port) (\S+)", recipe))
    readme = (root / "README.md").read_text()
    paragraph = readme[readme.index("`make run` serves") :].split("\n\n", 1)[0]
    assert f"`{flags['host']}:{flags['port']}`" in paragraph


def test_the_demo_moves_off_a_taken_default_port_and_says_so(busy_port: int) -> None:
    notes: list[str] = []
    port = free_port("127.0.0.1", busy_port, "--port", notes)
    assert port != busy_port
    assert notes == [f"port {busy_port} is in use, so --port {port} is used instead"]
