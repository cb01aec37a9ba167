"""deploy/ stays consistent with the code: no Docker engine or cluster here, so the Dockerfile,
compose file and Kubernetes manifests are parsed and checked against the code's defaults."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import DEFAULT_PORT, Settings
from bot.engine.dialogue import DEFAULT_QUESTION_COUNT

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
IMAGE = "ghcr.io/revq/revq:latest"
SECRET_NAMES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DISCORD_TOKEN")
REAL_LOOKING = re.compile(r"xox[abposr]-[0-9A-Za-z-]{8,}|xapp-[0-9A-Za-z-]{8,}|[A-Za-z0-9_.-]{40,}")


def settings_read_by_the_code() -> set[str]:
    source = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'"((?:REVQ|SLACK|DISCORD)_[A-Z_]+|PORT)"', source))


def k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return docs


def k8s(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in k8s_docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            pairs[name.strip()] = value.strip()
    return pairs


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def dockerfile() -> list[str]:
    """Instructions, one per item, with continuation lines joined and comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [part.strip() for part in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if part.strip()]


# --- Kubernetes -----------------------------------------------------------------------------


def test_every_k8s_document_has_the_required_keys_and_the_namespace() -> None:
    docs = k8s_docs()
    assert {"Namespace", "Secret", "ConfigMap", "Deployment", "Service", "StatefulSet"} <= {d["kind"] for d in docs}
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), doc
        assert doc["metadata"].get("name"), doc
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "revq", doc["metadata"]
        if doc["kind"] in ("Deployment", "StatefulSet"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), doc["metadata"]["name"]
    assert k8s("Namespace", "revq")


def test_the_image_is_the_same_everywhere() -> None:
    images = {c["image"] for d in k8s_docs() if d["kind"] in ("Deployment", "StatefulSet") for c in containers(d)}
    images |= {s["image"] for s in compose()["services"].values()}
    assert images - {"redis:7-alpine"} == {IMAGE}, images


def test_slack_deployment_runs_http_mode_with_probes_on_the_code_default_port() -> None:
    deployment = k8s("Deployment", "revq-slack")
    assert deployment["spec"]["replicas"] >= 2
    [container] = containers(deployment)
    args = container.get("command", []) + container["args"]
    assert args[:2] == ["slack", "--http"] and args[args.index("--port") + 1] == str(DEFAULT_PORT), args
    assert {p["containerPort"] for p in container["ports"]} == {DEFAULT_PORT}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": DEFAULT_PORT}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": DEFAULT_PORT}
    service = k8s("Service", "revq-slack")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, DEFAULT_PORT)]


def test_the_health_path_is_the_one_the_server_serves() -> None:
    from bot.adapters.health import HEALTH_PATH, READY_PATH

    assert (HEALTH_PATH, READY_PATH) == ("/healthz", "/readyz")


@pytest.mark.parametrize(("kind", "name"), [("Deployment", "revq-slack"), ("StatefulSet", "revq-discord")])
def test_revq_workloads_have_resources_run_as_non_root_and_read_secrets_from_a_secret(kind: str, name: str) -> None:
    workload = k8s(kind, name)
    pod = workload["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    [container] = containers(workload)
    for key in ("requests", "limits"):
        assert {"cpu", "memory"} <= container["resources"][key].keys(), key
    sources = container["envFrom"]
    assert {"name": "revq-secrets"} in [s.get("secretRef") for s in sources]
    assert {"name": "revq-config"} in [s.get("configMapRef") for s in sources]
    inline = {e["name"] for e in container.get("env", [])}
    assert not inline & set(SECRET_NAMES), inline


def test_the_secret_is_a_clearly_marked_example_and_the_configmap_holds_no_secret() -> None:
    secret = k8s("Secret", "revq-secrets")
    data = secret["stringData"]
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"} <= data.keys()
    assert all(value.startswith("REPLACE_ME") for value in data.values()), data
    assert not any(REAL_LOOKING.search(value) for value in data.values())
    config = k8s("ConfigMap", "revq-config")["data"]
    assert not config.keys() & set(SECRET_NAMES)
    assert set(config) <= settings_read_by_the_code(), set(config) - settings_read_by_the_code()


def test_the_configmap_points_at_the_redis_service_and_its_settings_are_accepted() -> None:
    config = k8s("ConfigMap", "revq-config")["data"]
    redis = k8s("Service", "redis")
    port = redis["spec"]["ports"][0]["port"]
    assert config["REVQ_STORE"] == f"redis://{redis['metadata']['name']}:{port}/0"
    shards = {e["name"]: e["value"] for e in containers(k8s("StatefulSet", "revq-discord"))[0]["env"]}
    settings = Settings.from_env({**config, **shards, "DISCORD_SHARD_IDS": "1"})
    assert settings.store == config["REVQ_STORE"] and settings.port == DEFAULT_PORT
    assert settings.discord_shard_ids == (1,)


def test_discord_statefulset_derives_its_shard_from_the_pod_ordinal() -> None:
    statefulset = k8s("StatefulSet", "revq-discord")
    spec = statefulset["spec"]
    assert spec["replicas"] >= 2
    headless = k8s("Service", spec["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    [container] = containers(statefulset)
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["DISCORD_SHARD_COUNT"] == str(spec["replicas"])
    command = container["command"]
    assert command[:2] == ["sh", "-c"], command
    script = command[2]
    assert 'DISCORD_SHARD_IDS="${HOSTNAME##*-}"' in script
    assert shlex.split(script.split(";")[-1]) == ["exec", "revq", "discord"], script
    for ordinal in range(spec["replicas"]):  # what the shell makes of each pod's name
        hostname = f"{statefulset['metadata']['name']}-{ordinal}"
        settings = Settings.from_env({**env, "DISCORD_SHARD_IDS": hostname.rsplit("-", 1)[-1]})
        assert settings.discord_shard_ids == (ordinal,)


def test_redis_is_one_replica_on_a_volume() -> None:
    redis = k8s("StatefulSet", "redis")
    assert redis["spec"]["replicas"] == 1
    claims = redis["spec"]["volumeClaimTemplates"]
    [container] = containers(redis)
    assert container["args"] == ["redis-server", "--appendonly", "yes"]
    assert {m["name"] for m in container["volumeMounts"]} == {c["metadata"]["name"] for c in claims}
    text = (K8S / "redis.yaml").read_text(encoding="utf-8")
    assert "rediss://" in text and "REVQ_STORE" in text  # how to use a managed Redis instead


# --- compose and .env.example ----------------------------------------------------------------


def test_compose_runs_slack_discord_and_redis_with_a_volume() -> None:
    doc = compose()
    services = doc["services"]
    assert set(services) == {"slack", "discord", "redis"}
    assert "redis-data" in doc["volumes"]
    redis = services["redis"]
    assert redis["image"] == "redis:7-alpine"
    assert "redis-data:/data" in redis["volumes"]
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    for name in ("slack", "discord"):
        service = services[name]
        assert service["env_file"] == ".env", name
        assert service["environment"]["REVQ_STORE"] == "redis://redis:6379/0", name
        assert service["depends_on"] == {"redis": {"condition": "service_healthy"}}, name
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
    assert services["discord"]["command"] == ["discord"]
    assert services["discord"]["healthcheck"] == {"disable": True}


def test_compose_slack_serves_http_on_the_default_port_and_checks_healthz() -> None:
    slack = compose()["services"]["slack"]
    assert slack["command"] == ["slack", "--http", "--port", str(DEFAULT_PORT)]
    assert f"{DEFAULT_PORT}:{DEFAULT_PORT}" in slack["ports"]
    check = " ".join(slack["healthcheck"]["test"])
    assert f"http://127.0.0.1:{DEFAULT_PORT}/healthz" in check and "urllib" in check


def test_env_example_lists_every_setting_without_secrets_and_is_accepted() -> None:
    pairs = env_example()
    names = settings_read_by_the_code()
    assert {"REVQ_STORE", "SLACK_BOT_TOKEN", "DISCORD_TOKEN", "PORT"} <= names
    assert names <= pairs.keys(), names - pairs.keys()
    assert pairs.keys() <= names, pairs.keys() - names
    for name in SECRET_NAMES:
        assert pairs[name] == "", name
    assert not any(REAL_LOOKING.search(value) for value in pairs.values())
    settings = Settings.from_env(pairs)  # every example value (empty: the default) is one revq takes
    assert settings.port == DEFAULT_PORT and settings.question_count == DEFAULT_QUESTION_COUNT


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", ".pytest_cache", "*.db", ".env"} <= ignored, ignored
    assert not ignored & {"bot", "question_bank", "pyproject.toml", "README.md"}  # the build needs them


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_non_root_with_revq_as_entrypoint() -> None:
    instructions = dockerfile()
    froms = [i for i in instructions if i.upper().startswith("FROM ")]
    assert len(froms) >= 2, froms
    assert all(re.match(r"FROM python:3\.1[12]-slim\b", f) for f in froms), froms
    assert any("--from=" in i for i in instructions if i.startswith("COPY"))
    users = [i.split()[1] for i in instructions if i.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert instructions.index(next(i for i in instructions if i.startswith("USER "))) > instructions.index(froms[-1])
    assert 'ENTRYPOINT ["revq"]' in instructions
    assert 'CMD ["slack", "--http"]' in instructions
    assert f"EXPOSE {DEFAULT_PORT}" in instructions
    [check] = [i for i in instructions if i.startswith("HEALTHCHECK")]
    assert "urllib" in check and f"127.0.0.1:${{PORT:-{DEFAULT_PORT}}}/healthz" in check, check


def test_dockerfile_installs_the_wheel_with_the_question_bank_and_bakes_in_no_secret() -> None:
    instructions = dockerfile()
    assert any(i.startswith("COPY question_bank") for i in instructions)
    run = " ".join(i for i in instructions if i.startswith("RUN"))
    assert "pip wheel" in run and re.search(r"pip install \S*\.whl", run), run
    package_data = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert "questions/*.yaml" in package_data and "lexicon/*.yaml" in package_data  # the bank ships in the wheel
    for instruction in instructions:
        if instruction.startswith(("ENV", "ARG")):
            assert not re.search(r"TOKEN|SECRET|PASSWORD|xox|xapp", instruction, re.I), instruction
