"""The compose file is checked, not run (no Docker engine here): what `docker compose` would require."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from services.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
APP_SERVICES = {"api", "projections", "relay", "reminders"}


def app_env_names() -> set[str]:
    return {f"SITELEDGER_{name.upper()}" for name in Settings.model_fields}


def test_every_service_has_an_image_or_a_build_and_the_builds_exist() -> None:
    for name, service in COMPOSE["services"].items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            context = (ROOT / "deploy" / service["build"]["context"]).resolve()
            assert (context / service["build"]["dockerfile"]).is_file(), name


def test_every_setting_the_app_reads_is_set_for_every_app_process() -> None:
    for name in APP_SERVICES:
        env = COMPOSE["services"][name]["environment"]
        assert app_env_names() <= set(env), (name, app_env_names() - set(env))
        assert set(k for k in env if k.startswith("SITELEDGER_")) <= app_env_names(), "a variable nobody reads"
        assert env["SITELEDGER_ENV"] == "production" and env["SITELEDGER_EVENT_STORE"] == "postgres"
    assert COMPOSE["services"]["api"]["environment"]["SITELEDGER_PROJECTIONS_IN_PROCESS"] == "false"


def test_secrets_come_from_the_environment_never_from_the_file() -> None:
    text = (ROOT / "deploy" / "compose.yaml").read_text()
    for secret in ("SITELEDGER_POSTGRES_PASSWORD", "SITELEDGER_S3_SECRET_KEY", "POSTGRES_PASSWORD",
                   "MINIO_ROOT_PASSWORD"):
        for value in re.findall(rf"{secret}: (.+)", text):
            assert value.startswith("${") and ":?" in value, (secret, value)


def test_dependencies_ports_health_checks_and_volumes_are_consistent() -> None:
    services, volumes = COMPOSE["services"], set(COMPOSE.get("volumes", {}))
    published = []
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert source in volumes, (name, source)
        published += [p.split(":")[0] for p in service.get("ports", [])]
    assert len(published) == len(set(published))
    api_env = services["api"]["environment"]
    assert api_env["SITELEDGER_S3_ENDPOINT"].split(":")[0] in services
    assert api_env["SITELEDGER_KAFKA_BOOTSTRAP"].split(":")[0] in services
    assert api_env["SITELEDGER_POSTGRES_HOST"] in services
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    for name in APP_SERVICES:
        assert services[name]["command"][0] == "siteledger"


def test_the_readme_configuration_table_names_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in sorted(app_env_names()) if name not in readme and
               not any(part in readme for part in _grouped(name))]
    assert not missing, missing


def _grouped(name: str) -> list[str]:
    """The README groups some variables (`SITELEDGER_POSTGRES_HOST` / `_PORT`); accept the short form."""
    head, _, tail = name.rpartition("_")
    return [f"`_{tail}`"] if head.startswith("SITELEDGER_POSTGRES") else []
