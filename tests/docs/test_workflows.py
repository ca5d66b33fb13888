"""The GitHub workflows and dependabot's settings are valid, and do what CONTRIBUTING.md says.

Validity is checked against the JSON schemas that check-jsonschema vendors (SchemaStore's
``github-workflow`` and ``dependabot-2.0``), so the check runs offline. actionlint would check
more (expressions, shell), but it ships as a Go binary fetched from GitHub at install time, which
CI here cannot reach; the tests below pin down the rest of what matters.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .markdown import ROOT

GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def _check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_expected_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS} == {"ci.yml", "release.yml"}


def test_workflows_are_valid_against_the_github_workflow_schema() -> None:
    result = _check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_config_is_valid_against_its_schema() -> None:
    result = _check_jsonschema("vendor.dependabot", GITHUB / "dependabot.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    stepz: []\n", encoding="utf-8")
    assert _check_jsonschema("vendor.github-workflows", broken).returncode != 0


def test_ci_runs_every_supported_python_on_linux_with_least_privilege() -> None:
    ci = _load(GITHUB / "workflows" / "ci.yml")
    assert ci["permissions"] == {"contents": "read"}
    assert "concurrency" in ci
    assert set(ci["on"]) >= {"push", "pull_request"}
    (job,) = ci["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]


def test_ci_lints_types_tests_builds_the_docs_and_the_package() -> None:
    commands = [step.get("run", "") for step in _steps(_load(GITHUB / "workflows" / "ci.yml"))]
    for needed in ("./run install", "./run test", "./run docs", "./run package"):
        assert any(command.startswith(needed) for command in commands), needed


def test_release_publishes_version_tags_with_trusted_publishing() -> None:
    release = _load(GITHUB / "workflows" / "release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {"contents": "read"}
    publish = release["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    (upload,) = [s for s in publish["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert "with" not in upload or "password" not in upload["with"]  # OIDC, no stored token
    build_commands = [step.get("run", "") for step in release["jobs"]["build"]["steps"]]
    assert any("./run package" in command for command in build_commands)
    assert any('test "$TAG" = "v$version"' in command for command in build_commands)


def test_checkouts_do_not_keep_the_token_and_actions_are_pinned() -> None:
    for path in WORKFLOWS:
        for step in _steps(_load(path)):
            uses = step.get("uses")
            if uses is None:
                continue
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+|release/v\d+|[0-9a-f]{40})", uses), (path.name, uses)
            if uses.startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_dependabot_updates_pip_and_actions_weekly() -> None:
    config = _load(GITHUB / "dependabot.yml")
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(ecosystems) == {"pip", "github-actions"}
    assert {update["schedule"]["interval"] for update in ecosystems.values()} == {"weekly"}


@pytest.mark.parametrize("command", ["install", "test", "docs", "package"])
def test_every_run_command_the_workflows_use_exists(command: str) -> None:
    assert re.search(rf"^\s+{command}\)$", (ROOT / "run").read_text(encoding="utf-8"), re.M)
