"""deploy/: the docker compose set-up, Prometheus's scrape and alert rules, the Grafana dashboard.

None of it needs Docker. The compose file is checked against the Compose Specification's schema
(vendored by check-jsonschema: offline), and by ``docker compose config`` too where the docker CLI
has its compose plugin. The dashboard's and the alerts' PromQL may only name the metrics the SDK
exports: their names are derived from ``src/iqmetrix_dropship/_telemetry.py`` (``_METRICS`` and
the observable gauges) by the Prometheus exporter's naming rule, so renaming a metric there fails
here, and so does a metric added there without a panel.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from iqmetrix_dropship.emulator import _config as emulator_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
PROMETHEUS = DEPLOY / "prometheus.yml"
ALERTS = DEPLOY / "alerts.yml"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "dropship.json"
TELEMETRY = ROOT / "src" / "iqmetrix_dropship" / "_telemetry.py"
OPERATIONS_GUIDE = ROOT / "docs" / "guides" / "operations.md"

REPLICAS = ("replica-1", "replica-2")
METRICS_PORT = "9464"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _compose() -> dict[str, Any]:
    compose = _yaml(COMPOSE)
    assert isinstance(compose, dict)
    return compose


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = _compose()["services"][name]
    return service


def _option(command: list[str], name: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` in an exec-form command."""
    for index, word in enumerate(command):
        if word == name and index + 1 < len(command):
            return command[index + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


# -- the metrics the SDK exports, as Prometheus names them ------------------------------------------


def exported_metrics() -> dict[str, tuple[str, str]]:
    """``{otel name: (kind, unit)}``: the ``_METRICS`` table and every ``create_observable_gauge``
    of ``_telemetry.py``, read from its source (nothing is imported or configured)."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.walk(ast.parse(TELEMETRY.read_text(encoding="utf-8"))):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id == "_METRICS" for target in targets):
                assert node.value is not None
                for name, (kind, unit, _description) in ast.literal_eval(node.value).items():
                    found[name] = (kind, unit)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "create_observable_gauge":
            units = [ast.literal_eval(keyword.value) for keyword in node.keywords if keyword.arg == "unit"]
            found[ast.literal_eval(node.args[0])] = ("gauge", units[0] if units else "")
    return found


def _unit_suffix(unit: str) -> str:
    """OpenTelemetry's Prometheus exporter: a unit in braces (an annotation) and the unit ``1`` add
    nothing; a real unit adds its name in full."""
    if unit in ("", "1") or (unit.startswith("{") and unit.endswith("}")):
        return ""
    suffixes = {"s": "_seconds", "ms": "_milliseconds", "By": "_bytes"}
    assert unit in suffixes, f"unit {unit!r}: teach this test its Prometheus suffix"
    return suffixes[unit]


def family(name: str, kind: str, unit: str) -> str:
    """The Prometheus name of a metric, before any per-kind sample suffix."""
    base = name.replace(".", "_") + _unit_suffix(unit)
    return base + "_total" if kind == "counter" else base


def samples(name: str, kind: str, unit: str) -> set[str]:
    """Every series name a scrape may show for the metric."""
    base = family(name, kind, unit)
    if kind == "histogram":
        return {base + "_bucket", base + "_sum", base + "_count"}
    return {base}


# Not the SDK's, and there all the same: Prometheus's own ``up`` per target, and the process
# collector of prometheus_client's registry, which /metrics renders beside the SDK's metrics.
NOT_THE_SDKS = {"up", "process_start_time_seconds"}


def prometheus_names() -> set[str]:
    """Every series name a PromQL expression of deploy/ may use: the SDK's, and ``NOT_THE_SDKS``."""
    names = set(NOT_THE_SDKS)
    for name, (kind, unit) in exported_metrics().items():
        names |= samples(name, kind, unit)
    return names


# -- PromQL, read just enough to find the metric names ----------------------------------------------

_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
_MODIFIERS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.*),\s*[A-Za-z_]\w*\s*\)\s*$")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: every identifier that is not a function (followed by
    ``(``), a keyword, a label (in ``{...}`` or ``by (...)``), a string, a number or a variable."""
    label_values = _LABEL_VALUES.match(expr)  # a Grafana variable's query: label_values(selector, label)
    text = label_values["selector"] if label_values else expr
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", " ", text)
    text = _MODIFIERS.sub(" ", text)
    text = re.sub(r"(?<![\w:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", " ", text)
    names = set()
    for found in re.finditer(r"[A-Za-z_:][\w:]*", text):
        if text[found.end() :].lstrip().startswith("(") or found.group().lower() in _KEYWORDS:
            continue
        names.add(found.group())
    return names


def test_metric_names_are_found_in_promql_and_nothing_else() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, http_route) (rate(dropship_client_request_duration_seconds_bucket"
        '{replica=~"$replica", http_route!="x y"}[$__rate_interval]))) > 1e3 and on (instance) up == 1'
    )
    assert metric_names(expr) == {"dropship_client_request_duration_seconds_bucket", "up"}
    assert metric_names('label_values(up{job="dropship"}, replica)') == {"up"}


def _balanced(expr: str) -> bool:
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr):
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


# -- the SDK's metric names -----------------------------------------------------------------------


def test_the_catalogue_is_read_from_the_telemetry_module() -> None:
    metrics = exported_metrics()
    assert len(metrics) >= 15
    gauges = {name for name, (kind, _) in metrics.items() if kind == "gauge"}
    assert gauges == {
        "dropship.feed.lag.unprocessed",
        "dropship.feed.lag.processed",
        "dropship.checkpoint.age",
        "dropship.follower.leader",
    }
    assert family("dropship.follower.polls", *metrics["dropship.follower.polls"]) == "dropship_follower_polls_total"
    assert family("dropship.checkpoint.age", *metrics["dropship.checkpoint.age"]) == "dropship_checkpoint_age_seconds"


_EXPORT_EVERY_METRIC = """
from datetime import datetime, timezone

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import REGISTRY, generate_latest

from iqmetrix_dropship import _telemetry as telemetry

telemetry.configure(meter_provider=MeterProvider(metric_readers=[PrometheusMetricReader()]))
for name, (kind, _unit, _description) in telemetry._METRICS.items():
    (telemetry.record if kind == "histogram" else telemetry.add)(name, 1)
gauges = telemetry.FollowerGauges("demo")  # every gauge reports: each has a value
gauges.leading, gauges.committed_at = True, 0.0
gauges.newest_handled = datetime.now(timezone.utc)
print(generate_latest(REGISTRY).decode())
"""


@pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.exporter.prometheus") is None,
    reason="the prometheus extra is not installed: the naming rule is not compared with the exporter",
)
def test_the_naming_rule_is_the_prometheus_exporters() -> None:
    # In a process of its own: the exporter registers with prometheus_client's global registry.
    scrape = subprocess.run(
        [sys.executable, "-c", _EXPORT_EVERY_METRIC], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    shown = {re.split(r"[{ ]", line, maxsplit=1)[0] for line in scrape.splitlines() if not line.startswith("#")}
    assert {name for name in shown if name.startswith("dropship_")} == prometheus_names() - NOT_THE_SDKS
    if sys.platform == "linux":  # prometheus_client's process collector reads /proc
        assert "process_start_time_seconds" in shown


# -- the Grafana dashboard --------------------------------------------------------------------------


def _dashboard() -> dict[str, Any]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(dashboard, dict)
    return dashboard


def _panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in _dashboard()["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return panels


def _dashboard_queries() -> list[str]:
    exprs = [target["expr"] for panel in _panels() for target in panel.get("targets", [])]
    for variable in _dashboard()["templating"]["list"]:
        query = variable.get("query")
        exprs.append(query["query"] if isinstance(query, dict) else query)
    return exprs


def test_every_panel_has_a_title_and_queries() -> None:
    dashboard = _dashboard()
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"]
    assert dashboard["title"]
    panels = [panel for panel in _panels() if panel["type"] != "row"]
    assert len(panels) >= 13
    for panel in panels:
        assert panel.get("title"), panel
        assert panel.get("description"), panel["title"]
        assert panel.get("targets"), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert _balanced(target["expr"]), (panel["title"], target["expr"])
    assert len({panel["id"] for panel in _panels()}) == len(_panels())


def test_the_dashboard_names_the_provisioned_datasource_by_uid() -> None:
    (datasource,) = _yaml(DATASOURCES)["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    expected = {"type": "prometheus", "uid": datasource["uid"]}
    for panel in _panels():
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == expected, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == expected, panel["title"]
    for variable in _dashboard()["templating"]["list"]:
        assert variable["datasource"] == expected


def test_the_dashboard_uses_only_metrics_the_sdk_exports() -> None:
    known = prometheus_names()
    for expr in _dashboard_queries():
        used = metric_names(expr)
        assert used, f"no metric found in {expr!r}"
        assert used <= known, f"{sorted(used - known)} in {expr!r} is not a metric of _telemetry.py"


def test_every_metric_the_sdk_exports_has_a_panel() -> None:
    used = {name for expr in _dashboard_queries() for name in metric_names(expr)}
    for name, (kind, unit) in exported_metrics().items():
        assert samples(name, kind, unit) & used, f"{name} is on no panel of {DASHBOARD.name}"


def test_grafana_provisions_the_dashboard_folder_that_compose_mounts() -> None:
    (provider,) = _yaml(DASHBOARD_PROVIDERS)["providers"]
    volumes = _service("grafana")["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in volumes
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    home = _service("grafana")["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/{DASHBOARD.name}"


# -- the alert rules --------------------------------------------------------------------------------


def _rules() -> list[dict[str, Any]]:
    groups = _yaml(ALERTS)["groups"]
    assert groups
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_rule_has_an_expression_a_duration_and_what_to_do() -> None:
    for rule in _rules():
        assert set(rule) >= {"alert", "expr", "for", "annotations"}, rule
        assert re.fullmatch(r"\d+[smh]", str(rule["for"])), rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["description"].split()) >= 15, rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert _balanced(rule["expr"]), rule["alert"]
    names = [rule["alert"] for rule in _rules()]
    assert len(names) == len(set(names))


def test_the_alerts_worth_setting_are_there() -> None:
    rules = {rule["alert"]: rule for rule in _rules()}
    assert set(rules) >= {
        "DropshipTargetDown",
        "DropshipNoLeader",
        "DropshipTwoLeaders",
        "DropshipFeedLagHigh",
        "DropshipCheckpointStale",
        "DropshipTokenFetchesFailing",
        "DropshipHandlerFailures",
        "DropshipRequestErrorRatioHigh",
    }
    assert rules["DropshipNoLeader"]["expr"].replace(" ", "").endswith("(dropship_follower_leader)==0")
    assert rules["DropshipTwoLeaders"]["expr"].replace(" ", "").endswith("(dropship_follower_leader)>1")
    assert rules["DropshipTargetDown"]["expr"].replace(" ", "") == 'up{job="dropship"}==0'
    assert "> 900" in rules["DropshipFeedLagHigh"]["expr"]  # 15 minutes


def test_the_alerts_use_only_metrics_the_sdk_exports() -> None:
    known = prometheus_names()
    for rule in _rules():
        used = metric_names(rule["expr"])
        assert used, rule["alert"]
        assert used <= known, f"{sorted(used - known)} in {rule['alert']} is not a metric of _telemetry.py"


# -- Prometheus, compose and the image ------------------------------------------------------------


def test_prometheus_scrapes_both_replicas_at_their_metrics_port() -> None:
    config = _yaml(PROMETHEUS)
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "dropship"  # the alerts select up{job="dropship"}
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = {target for static in job["static_configs"] for target in static["targets"]}
    assert targets == {f"{name}:{_option(_service(name)['command'], '--metrics-port')}" for name in REPLICAS}
    assert targets == {f"{name}:{METRICS_PORT}" for name in REPLICAS}
    mounts = _service("prometheus")["volumes"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    (rule_file,) = config["rule_files"]
    assert f"./alerts.yml:{rule_file}:ro" in mounts


def test_the_replicas_run_dropship_run_with_metrics_webhook_and_json_logs() -> None:
    services = _compose()["services"]
    runners = {name for name, service in services.items() if service.get("command", [])[:2] == ["dropship", "run"]}
    assert runners == set(REPLICAS)
    for name in REPLICAS:
        service = services[name]
        command = service["command"]
        assert _option(command, "--metrics-port") == METRICS_PORT
        assert _option(command, "--webhook-port") == METRICS_PORT
        assert _option(command, "--bind") == "0.0.0.0"  # noqa: S104 - inside its container, published on 127.0.0.1
        assert _option(command, "--log-format") == "json"
        environment = service["environment"]
        assert environment["IQMETRIX_DB"].startswith("postgresql://")
        assert "@postgres:5432/" in environment["IQMETRIX_DB"]
        assert environment["IQMETRIX_BASE_URL"] == environment["IQMETRIX_ACCOUNTS_URL"] == "http://emulator:8080/v1"
        assert environment["DROPSHIP_WEBHOOK_SECRET"].startswith("${DROPSHIP_WEBHOOK_SECRET:-")
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}


def test_the_emulator_and_postgres_are_the_ones_asked_for() -> None:
    emulator = _service("emulator")
    assert emulator["command"][:2] == ["dropship", "emulator"]
    assert _option(emulator["command"], "--host") == "0.0.0.0"  # noqa: S104 - inside its container
    assert _option(emulator["command"], "--port") == "8080"
    assert _option(emulator["command"], "--orders") == "200"
    assert emulator["image"] == _service("replica-1")["image"]
    postgres = _service("postgres")
    assert postgres["image"] == "postgres:16"
    assert "healthcheck" in postgres
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert set(_compose()["volumes"]) >= {volume.split(":")[0] for volume in postgres["volumes"]}


def test_the_image_installs_the_extras_a_replica_needs() -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    (extras,) = re.findall(r"pip install [\"']?\.\[([\w,-]+)\]", dockerfile)
    assert set(extras.split(",")) >= {"emulator", "cli", "postgres", "prometheus"}
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)


_SUBSTITUTED = re.compile(r"\$\{[A-Z][A-Z0-9_]*:-demo-only-[a-z-]+\}")


def test_compose_holds_only_fake_or_substituted_secrets() -> None:
    emulator_fakes = {emulator_config.DEFAULT_CLIENT_SECRET, emulator_config.DEFAULT_PASSWORD}
    for name, service in _compose()["services"].items():
        for variable, value in service.get("environment", {}).items():
            if not re.search(r"PASSWORD|SECRET", variable):
                continue
            if variable.startswith("IQMETRIX_"):
                assert value in emulator_fakes, f"{name}: {variable} is not one of the emulator's fake credentials"
            else:
                assert _SUBSTITUTED.fullmatch(value), f"{name}: {variable} must be ${{{variable}:-demo-only-...}}"
        dsn = service.get("environment", {}).get("IQMETRIX_DB")
        if dsn is not None:
            assert _SUBSTITUTED.search(dsn), f"{name}: the DSN's password must be a substitution"


def test_every_published_port_is_on_localhost() -> None:
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


# -- the compose file is valid ------------------------------------------------------------------------


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_compose_file_is_valid_against_the_compose_spec() -> None:
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  db:\n    image: postgres:16\n    portz: ['5432']\n", encoding="utf-8")
    assert _check_jsonschema(broken).returncode != 0


def _docker_compose_unavailable() -> str | None:
    """Why ``docker compose`` cannot run here, or ``None`` when it can."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not on PATH"
    try:
        version = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`docker compose version` failed: {error}"
    if version.returncode != 0:
        return "the docker CLI has no compose plugin (`docker compose version` failed)"
    return None


def test_docker_compose_accepts_the_file() -> None:
    # `config` resolves and checks the file on the client: no daemon, no image pulled.
    reason = _docker_compose_unavailable()
    if reason is not None:
        pytest.skip(f"docker compose is unavailable ({reason}); the compose-spec schema test still ran")
    result = subprocess.run(
        [shutil.which("docker") or "docker", "compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- the operations guide ---------------------------------------------------------------------------


def test_the_operations_guide_explains_every_metric_and_alert() -> None:
    guide = OPERATIONS_GUIDE.read_text(encoding="utf-8")
    for name, (kind, unit) in exported_metrics().items():
        assert f"`{family(name, kind, unit)}`" in guide, f"{name} is not in {OPERATIONS_GUIDE.name}"
    for rule in _rules():
        assert f"`{rule['alert']}`" in guide, f"{rule['alert']} is not in {OPERATIONS_GUIDE.name}"
    assert "docker compose -f deploy/compose.yaml up" in guide
