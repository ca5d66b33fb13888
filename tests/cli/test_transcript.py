"""docs/cli-transcript.txt is a real run, and this test keeps it one.

The emulator runs as a process (`dropship emulator`, as an operator starts it), and the other
commands run against it through typer's runner, on a 100-column terminal without colour. Only
what no run can repeat is replaced: the emulator's free port (shown as the default, 8080) and
wall-clock times (shown as ``YYYY-MM-DD hh:mm:ss``); the seeded data is fixed by ``--seed``.

    UPDATE_TRANSCRIPT=1 pytest tests/cli/test_transcript.py   # rewrite the file after a change
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iqmetrix_dropship.cli._app import app

from .conftest import environment_for, make_emulator
from .processes import WAIT, dropship

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPT = ROOT / "docs" / "cli-transcript.txt"
PAGE = ROOT / "docs" / "cli.md"
EMULATOR_ARGS = ["emulator", "--orders", "12", "--seed", "7"]
STOCK = "sku,is_available,quantity\n9101AGAP6,true,10\n9101AGAP7,false,0\n"
_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def stable(text: str, port: int) -> str:
    """The run's output with its port and wall-clock times replaced; no trailing blanks."""
    text = text.replace(f"127.0.0.1:{port}", "127.0.0.1:8080")
    now = datetime.now(timezone.utc)

    def clock(match: re.Match[str]) -> str:
        moment = datetime.strptime(match.group(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
        # The seeded history is in 2023; anything near today (a token's expiry, an update sent
        # during the run) is the wall clock.
        return "YYYY-MM-DD hh:mm:ss" if abs(moment - now) < timedelta(days=2) else match.group()

    text = _TIME.sub(clock, text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def render(blocks: Sequence[tuple[str, str]]) -> str:
    return "\n\n".join(f"$ dropship {command}\n{output}".rstrip() for command, output in blocks) + "\n"


def test_the_transcript_in_the_docs_is_a_real_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with dropship([*EMULATOR_ARGS, "--port", "0"], env={}, cwd=tmp_path) as (process, out, _):
        base_url = out.wait_for(lambda line: line.startswith("http://127.0.0.1:"))
        port = int(base_url.split(":")[2].split("/")[0])
        banner = "\n".join(out.seen)

        # The defaults of `--profile emulator` name the emulator's default port; only its port differs here.
        env = environment_for(make_emulator(), base_url, tmp_path)
        env.update(dict.fromkeys(name for name in env if name.startswith("IQMETRIX_")))
        env.update({"IQMETRIX_BASE_URL": base_url, "IQMETRIX_ACCOUNTS_URL": base_url, "COLUMNS": "100"})

        def run(*args: str) -> str:
            result = CliRunner().invoke(app, list(args), env=env)
            assert result.exit_code == 0, result.output
            return result.output

        blocks = [("--profile emulator login", run("--profile", "emulator", "login"))]
        blocks.append(("--profile emulator sync", run("--profile", "emulator", "sync")))
        blocks.append(("orders --status PendingSupplier", run("orders", "--status", "PendingSupplier")))
        order_id = re.findall(r"^([0-9a-f-]{36}) ", blocks[-1][1], re.MULTILINE)[0]
        ship = f"ship {order_id} --tracking 1Z999 --carrier UPS"
        blocks.append((f"--profile emulator {ship}", run("--profile", "emulator", *ship.split())))
        blocks.append((f"order {order_id}", run("order", order_id)))
        (tmp_path / "stock.csv").write_text(STOCK, encoding="utf-8")
        blocks.append(
            (
                "--profile emulator availability push stock.csv",
                run("--profile", "emulator", "availability", "push", "stock.csv"),
            )
        )
        blocks.append(("--profile emulator availability show", run("--profile", "emulator", "availability", "show")))

        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0

    emulator_terminal = f"$ dropship {' '.join(EMULATOR_ARGS)}\n{banner}\n"
    text = (
        "# Terminal 1: the emulator, left running\n"
        + stable(emulator_terminal, port)
        + "\n\n# Terminal 2: the operator\n"
        + stable(render(blocks), port)
        + "\n"
    )
    if os.environ.get("UPDATE_TRANSCRIPT") == "1":
        TRANSCRIPT.write_text(text, encoding="utf-8")
    assert TRANSCRIPT.exists(), "no docs/cli-transcript.txt: run with UPDATE_TRANSCRIPT=1 to write it"
    assert TRANSCRIPT.read_text(encoding="utf-8") == text, (
        "docs/cli-transcript.txt is stale: run with UPDATE_TRANSCRIPT=1 and review the diff"
    )


def test_the_cli_page_includes_the_transcript() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert '--8<-- "docs/cli-transcript.txt"' in page
