"""deploy/: the alert rules pass promtool, the Grafana dashboard parses, and every metric either of them
names is in a real scrape of /metrics.

promtool comes from `make promtool` (a prerequisite of `make test`, so CI always has it); without it the
test fails and says how to get it, rather than passing without having checked anything.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

DEPLOY = Path(settings.BASE_DIR) / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "fruitpak.json"
# Series Prometheus makes itself, not the app.
PROMETHEUS_OWN = {"up"}
METRIC_NAME = re.compile(r"\b((?:django|fruitpak)_[a-z0-9_]+|up)\b")


def promtool():
    found = Path(settings.BASE_DIR) / ".var" / "tools" / "promtool"
    path = str(found) if found.exists() else shutil.which("promtool")
    assert path, "promtool is missing: run `make promtool` (make test does)"
    return path


def run_promtool(*args):
    run = subprocess.run([promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_promtool_accepts_the_rules_and_the_config():
    assert "SUCCESS: 10 rules found" in run_promtool("check", "rules", "alerts.yml")
    # --syntax-only: the token file is the container's secret, absent here.
    assert "SUCCESS" in run_promtool("check", "config", "--syntax-only", "prometheus.yml")


def test_the_rules_fire_on_the_series_the_app_exports():
    assert "SUCCESS" in run_promtool("test", "rules", "alerts_test.yml")


def alert_exprs():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def dashboard_exprs():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            exprs[f"{panel['title']} / {target['refId']}"] = target["expr"]
    return dashboard, exprs


def test_the_dashboard_parses_and_uses_the_provisioned_data_source():
    dashboard, exprs = dashboard_exprs()
    assert dashboard["uid"] and len(exprs) >= 10
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {uid}
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/fruitpak.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def exported_names(text):
    """Every series name a scrape can hold: the families' samples, and each family's names by its type
    (a labelled counter no one has counted yet has no sample, but it is declared)."""
    names = set()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",),
                "summary": ("_count", "_sum", "")}
    for family in text_string_to_metric_families(text):
        names.update(sample.name for sample in family.samples)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


@pytest.mark.django_db
def test_every_metric_the_rules_and_dashboard_name_is_exported(acme, settings):
    settings.ALLOWED_HOSTS = ["*"]
    # Real requests first, so the labelled families have their series.
    assert acme.api_client("Clerk").get("/api/growers/").status_code == 200
    assert acme.client("Manager").get("/").status_code == 200
    response = Client().get("/metrics")
    assert response.status_code == 200
    names = exported_names(response.content.decode())
    _, panels = dashboard_exprs()
    exprs = {**alert_exprs(), **panels}
    missing = {
        where: sorted(set(METRIC_NAME.findall(expr)) - names - PROMETHEUS_OWN)
        for where, expr in exprs.items()
    }
    assert {where: names for where, names in missing.items() if names} == {}
    # And each expression names at least one metric (a typo in a prefix would otherwise pass).
    assert all(METRIC_NAME.search(expr) for expr in exprs.values())


def test_compose_runs_prometheus_and_grafana_with_these_files():
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    services = compose["services"]
    prometheus_mounts = " ".join(services["prometheus"]["volumes"])
    grafana_mounts = " ".join(services["grafana"]["volumes"])
    assert "./deploy/prometheus:/etc/prometheus" in prometheus_mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning" in grafana_mounts
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards" in grafana_mounts
    assert "metrics_token" in compose["secrets"]
    assert os.path.exists(PROMETHEUS / "prometheus.yml")
