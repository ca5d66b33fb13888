"""``/metrics`` over real HTTP: the Prometheus text exposition of the OpenTelemetry metrics, in a
child process (one meter provider per process: the test runner's own stays untouched)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import WAIT, get

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def metrics_url() -> Iterator[str]:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.ops.metrics_child"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdin is not None
        try:
            yield child.stdout.readline().strip()
        finally:
            child.stdin.close()  # the child's signal to stop
            child.wait(WAIT)


def test_metrics_shows_a_counter_counted_through_the_opentelemetry_api(metrics_url: str) -> None:
    answer = get(f"{metrics_url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    assert 'dropship_test_webhooks_total{http_response_status_code="202"' in answer.text
    assert any(
        line.startswith("dropship_test_webhooks_total{") and line.endswith(" 3.0") for line in answer.text.splitlines()
    )


def test_metrics_shows_a_counter_made_before_the_provider_was_installed(metrics_url: str) -> None:
    answer = get(f"{metrics_url}/metrics")
    assert any(
        line.startswith("dropship_test_early_total{") and line.endswith(" 2.0") for line in answer.text.splitlines()
    )


def test_metrics_shows_the_process_collectors(metrics_url: str) -> None:
    assert "process_resident_memory_bytes" in get(f"{metrics_url}/metrics").text
