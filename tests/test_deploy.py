"""deploy/ stays consistent with the code: no Docker engine or cluster here, so the Dockerfile,
compose file and Kubernetes manifests are parsed and checked against the code's defaults."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.health import HEALTH_PATH, READY_PATH
from bot.adapters.slack.server import BOT_SCOPES, EVENTS_PATH, INSTALL_PATH, OAUTH_SETTINGS, REDIRECT_PATH
from bot.config import DEFAULT_PORT, Settings
from bot.engine.dialogue import DEFAULT_QUESTION_COUNT

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"
IMAGE = "registry.example.org/revq:latest"  # a placeholder no cluster can pull; kustomization.yaml renames it
COMPOSE_IMAGE = "revq:local"  # built by compose itself, never pulled
REDIS_IMAGE = "redis:7-alpine"
REVQ_SERVICES = ("slack-socket", "slack", "discord")
SECRET_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_SECRET",
    "SLACK_STATE_SECRET",
    "DISCORD_TOKEN",
)
REAL_LOOKING = re.compile(r"xox[abposr]-[0-9A-Za-z-]{8,}|xapp-[0-9A-Za-z-]{8,}|[A-Za-z0-9_.-]{40,}")
UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "kb": 2**10, "mb": 2**20, "gb": 2**30}  # redis.conf's
K8S_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}


def settings_read_by_the_code() -> set[str]:
    source = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'"((?:REVQ|SLACK|DISCORD)_[A-Z_]+|PORT)"', source))


def k8s_files() -> list[Path]:
    """The manifests: every YAML file in deploy/k8s except kustomize's own."""
    return [path for path in sorted(K8S.glob("*.yaml")) if path != KUSTOMIZATION]


def k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in k8s_files():
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return docs


def k8s(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in k8s_docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def kustomization() -> dict[str, Any]:
    return yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


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


def inline_env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", [])}


def dockerfile() -> list[str]:
    """Instructions, one per item, with continuation lines joined and comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [part.strip() for part in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if part.strip()]


def deploying_section() -> str:
    """The README's "Deploying" section, up to the next top-level heading."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Deploying\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def shell_commands(text: str) -> list[str]:
    """Each command line of the ```sh blocks, with continuation lines joined and comments dropped."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def size_in_bytes(value: str, units: dict[str, int]) -> int:
    match = re.fullmatch(r"(\d+)([A-Za-z]*)", value.strip())
    assert match and match.group(2) in units, value
    return int(match.group(1)) * units[match.group(2)]


# --- Kubernetes -----------------------------------------------------------------------------


def test_every_k8s_document_has_the_required_keys_and_the_namespace() -> None:
    docs = k8s_docs()
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "Secret", "ConfigMap", "Deployment", "Service", "StatefulSet", "NetworkPolicy"} <= kinds
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), doc
        assert doc["metadata"].get("name"), doc
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "revq", doc["metadata"]
        if doc["kind"] in ("Deployment", "StatefulSet"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), doc["metadata"]["name"]
    assert k8s("Namespace", "revq")


def test_kustomization_applies_every_manifest_but_the_example_secret_in_the_namespace() -> None:
    doc = kustomization()
    assert doc["kind"] == "Kustomization" and doc["namespace"] == "revq"
    listed = doc["resources"]
    assert len(listed) == len(set(listed)), listed
    expected = {path.name for path in k8s_files()} - {"secret.example.yaml"}  # placeholders: never applied
    assert set(listed) == expected, set(listed) ^ expected
    assert listed[0] == "namespace.yaml"


def test_the_image_is_named_in_one_place_and_compose_never_pulls_it() -> None:
    images = {c["image"] for d in k8s_docs() if d["kind"] in ("Deployment", "StatefulSet") for c in containers(d)}
    assert images == {IMAGE, REDIS_IMAGE}, images
    [rename] = kustomization()["images"]
    assert rename["name"] == IMAGE.rsplit(":", 1)[0] and rename["newName"] and rename["newTag"], rename
    services = compose()["services"]
    for name in REVQ_SERVICES:
        assert services[name]["image"] == COMPOSE_IMAGE, name
        assert services[name]["pull_policy"] == "build", name
    assert services["redis"]["image"] == REDIS_IMAGE


def test_slack_deployment_runs_http_mode_on_the_code_default_port() -> None:
    deployment = k8s("Deployment", "revq-slack")
    assert deployment["spec"]["replicas"] >= 2
    [container] = containers(deployment)
    args = container.get("command", []) + container["args"]
    assert args[:2] == ["slack", "--http"] and args[args.index("--port") + 1] == str(DEFAULT_PORT), args
    assert {p["containerPort"] for p in container["ports"]} == {DEFAULT_PORT}
    service = k8s("Service", "revq-slack")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, DEFAULT_PORT)]


def health_port(kind: str, name: str) -> int:
    """The port a revq workload serves /healthz and /readyz on, as the code works it out."""
    [container] = containers(k8s(kind, name))
    settings = Settings.from_env(inline_env(container))
    args = container.get("command", []) + container.get("args", [])
    if args[:2] != ["slack", "--http"]:
        return settings.health_port  # Socket Mode and Discord: REVQ_HEALTH_PORT
    return int(args[args.index("--port") + 1]) if "--port" in args else settings.port


@pytest.mark.parametrize(("kind", "name"), [("Deployment", "revq-slack"), ("StatefulSet", "revq-discord")])
def test_revq_workloads_probe_start_liveness_and_readiness_on_the_port_the_code_serves(kind: str, name: str) -> None:
    [container] = containers(k8s(kind, name))
    port = health_port(kind, name)
    assert port, f"{name} serves no health endpoints (REVQ_HEALTH_PORT unset)"
    assert port in {p["containerPort"] for p in container["ports"]}
    probes = {probe: container[probe] for probe in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["startupProbe"]["httpGet"] == {"path": HEALTH_PATH, "port": port}
    assert probes["livenessProbe"]["httpGet"] == {"path": HEALTH_PATH, "port": port}
    assert probes["readinessProbe"]["httpGet"] == {"path": READY_PATH, "port": port}
    startup = probes["startupProbe"]
    # Generous: revq answers 503 "starting" while it waits for Redis, and must not be killed for it.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, startup
    for probe in probes.values():
        assert probe["timeoutSeconds"] >= 2, probe  # /readyz itself waits up to a second for the store


def test_the_health_paths_are_the_ones_the_server_serves() -> None:
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
    assert not inline_env(container).keys() & set(SECRET_NAMES)


def commented_secret_keys() -> dict[str, str]:
    """The optional keys secret.example.yaml carries commented out, as they read once uncommented."""
    text = (K8S / "secret.example.yaml").read_text(encoding="utf-8")
    lines = re.findall(r"^  # ([A-Z_]+: .*)$", text, re.M)
    return yaml.safe_load("\n".join(lines)) or {}


def test_the_secret_is_a_clearly_marked_example_and_the_configmap_holds_no_secret() -> None:
    secret = k8s("Secret", "revq-secrets")
    data = secret["stringData"]
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"} <= data.keys()
    optional = commented_secret_keys()
    for values in (data, optional):
        assert all(value.startswith("REPLACE_ME") for value in values.values()), values
        assert not any(REAL_LOOKING.search(value) for value in values.values())
        assert set(values) <= settings_read_by_the_code(), set(values) - settings_read_by_the_code()
    config = k8s("ConfigMap", "revq-config")["data"]
    assert not config.keys() & set(SECRET_NAMES)
    assert set(config) <= settings_read_by_the_code(), set(config) - settings_read_by_the_code()


def test_the_secret_example_offers_the_oauth_keys_commented_out() -> None:
    data = k8s("Secret", "revq-secrets")["stringData"]
    optional = commented_secret_keys()
    assert set(OAUTH_SETTINGS) <= optional.keys(), optional
    assert not Settings.from_env(data).slack_oauth  # as it stands, the example does not switch OAuth on
    assert Settings.from_env({**data, **optional}).slack_oauth  # uncommented, it does


def test_the_configmap_points_at_the_redis_service_and_its_settings_are_accepted() -> None:
    config = k8s("ConfigMap", "revq-config")["data"]
    redis = k8s("Service", "redis")
    port = redis["spec"]["ports"][0]["port"]
    assert config["REVQ_STORE"] == f"redis://{redis['metadata']['name']}:{port}/0"
    shards = inline_env(containers(k8s("StatefulSet", "revq-discord"))[0])
    settings = Settings.from_env({**config, **shards, "DISCORD_SHARD_IDS": "1"})
    assert settings.store == config["REVQ_STORE"] and settings.port == DEFAULT_PORT
    assert settings.discord_shard_ids == (1,)


def shard_script() -> str:
    [container] = containers(k8s("StatefulSet", "revq-discord"))
    command = container["command"]
    assert command[:2] == ["sh", "-c"] and len(command) == 3, command
    return str(command[2])


def run_shard_script(tmp_path: Path, hostname: str, shard_count: str | None) -> subprocess.CompletedProcess[str]:
    """Run the StatefulSet's start-up script as a pod named `hostname` would, with a stand-in revq."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    revq = fake / "revq"
    revq.write_text('#!/bin/sh\necho "DISCORD_SHARD_IDS=$DISCORD_SHARD_IDS args=$*"\n', encoding="utf-8")
    revq.chmod(0o755)
    env = {"PATH": f"{fake}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOSTNAME": hostname}
    if shard_count is not None:
        env["DISCORD_SHARD_COUNT"] = shard_count
    return subprocess.run(["sh", "-c", shard_script()], env=env, capture_output=True, text=True, timeout=10)


def test_discord_statefulset_derives_its_shard_from_the_pod_ordinal(tmp_path: Path) -> None:
    statefulset = k8s("StatefulSet", "revq-discord")
    spec = statefulset["spec"]
    assert spec["replicas"] >= 2
    # Discord limits how fast shards may connect: pods start one at a time (the default policy).
    assert spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
    headless = k8s("Service", spec["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    [container] = containers(statefulset)
    env = inline_env(container)
    assert env["DISCORD_SHARD_COUNT"] == str(spec["replicas"])
    assert shlex.split(shard_script().strip().splitlines()[-1]) == ["exec", "revq", "discord"]
    for ordinal in range(spec["replicas"]):  # what the shell makes of each pod's name
        done = run_shard_script(tmp_path, f"{statefulset['metadata']['name']}-{ordinal}", env["DISCORD_SHARD_COUNT"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"DISCORD_SHARD_IDS={ordinal} args=discord", done.stdout
        settings = Settings.from_env({**env, "DISCORD_SHARD_IDS": str(ordinal)})
        assert settings.discord_shard_ids == (ordinal,)


# (pod name, DISCORD_SHARD_COUNT): beyond the count, no count at all, a name without an ordinal.
REFUSED = [
    ("revq-discord-2", "2"),
    ("revq-discord-7", "2"),
    ("revq-discord-0", None),
    ("revq-discord-0", "0"),
    ("revq", "2"),
]


@pytest.mark.parametrize(("hostname", "shard_count"), REFUSED)
def test_the_shard_script_refuses_a_pod_beyond_the_shard_count(
    tmp_path: Path, hostname: str, shard_count: str | None
) -> None:
    done = run_shard_script(tmp_path, hostname, shard_count)
    assert done.returncode != 0
    assert "DISCORD_SHARD_IDS" not in done.stdout  # revq never started
    assert "revq:" in done.stderr and (hostname in done.stderr), done.stderr
    if hostname != "revq":
        assert "DISCORD_SHARD_COUNT" in done.stderr and "replicas" in done.stderr, done.stderr


def test_redis_is_one_replica_on_a_volume_non_root_and_refuses_writes_when_full() -> None:
    redis = k8s("StatefulSet", "redis")
    assert redis["spec"]["replicas"] == 1
    claims = redis["spec"]["volumeClaimTemplates"]
    [container] = containers(redis)
    args = container["args"]
    assert args[0] == "redis-server"
    options = dict(zip(args[1::2], args[2::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--maxmemory-policy"] == "noeviction"  # full: "try again", never a lost conversation
    limit = size_in_bytes(container["resources"]["limits"]["memory"], K8S_UNITS)
    assert size_in_bytes(options["--maxmemory"], UNITS) <= 0.8 * limit, (options["--maxmemory"], limit)
    assert {m["name"] for m in container["volumeMounts"]} == {c["metadata"]["name"] for c in claims}
    pod = redis["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0 and pod["fsGroup"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    text = (K8S / "redis.yaml").read_text(encoding="utf-8")
    assert "rediss://" in text and "REVQ_STORE" in text  # how to use a managed Redis instead


def test_only_revq_pods_may_reach_redis() -> None:
    policy = k8s("NetworkPolicy", "redis")
    redis_labels = k8s("StatefulSet", "redis")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= redis_labels.items()
    assert "Ingress" in policy["spec"]["policyTypes"]
    [rule] = policy["spec"]["ingress"]
    [source] = rule["from"]
    assert source.keys() == {"podSelector"}  # no namespaceSelector: pods of this namespace only
    allowed = source["podSelector"]["matchLabels"].items()
    for kind, name in (("Deployment", "revq-slack"), ("StatefulSet", "revq-discord")):
        assert allowed <= k8s(kind, name)["spec"]["template"]["metadata"]["labels"].items(), name
    assert not allowed <= redis_labels.items()
    port = k8s("Service", "redis")["spec"]["ports"][0]["targetPort"]
    assert rule["ports"] == [{"protocol": "TCP", "port": port}]


# --- compose and .env.example ----------------------------------------------------------------


def test_compose_runs_slack_in_both_modes_discord_and_redis_with_a_volume() -> None:
    doc = compose()
    services = doc["services"]
    assert set(services) == {*REVQ_SERVICES, "redis"}
    assert "redis-data" in doc["volumes"]
    redis = services["redis"]
    assert "redis-data:/data" in redis["volumes"]
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "profiles" not in redis  # comes along with whichever front end starts
    profiles = []
    for name in REVQ_SERVICES:
        service = services[name]
        assert service["env_file"] == ".env", name
        assert service["environment"]["REVQ_STORE"] == "redis://redis:6379/0", name
        assert service["depends_on"] == {"redis": {"condition": "service_healthy"}}, name
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
        [profile] = service["profiles"]  # a bare `up` never starts both Slack modes at once
        profiles.append(profile)
    assert len(set(profiles)) == len(profiles), profiles
    assert services["slack-socket"]["command"] == ["slack"]
    assert services["discord"]["command"] == ["discord"]


def test_compose_slack_http_listens_on_loopback_on_the_default_port() -> None:
    services = compose()["services"]
    slack = services["slack"]
    assert slack["command"] == ["slack", "--http", "--port", str(DEFAULT_PORT)]
    assert slack["ports"] == [f"127.0.0.1:{DEFAULT_PORT}:{DEFAULT_PORT}"]  # /metrics stays off the internet
    for name, service in services.items():
        for binding in service.get("ports", []):
            assert str(binding).startswith("127.0.0.1:"), (name, binding)


@pytest.mark.parametrize("name", REVQ_SERVICES)
def test_compose_checks_readyz_on_the_port_each_service_serves(name: str) -> None:
    service = compose()["services"][name]
    env = {key: str(value) for key, value in service["environment"].items()}
    settings = Settings.from_env(env)
    port = int(service["command"][3]) if service["command"][:2] == ["slack", "--http"] else settings.health_port
    assert port, f"{name} serves no health endpoints: set REVQ_HEALTH_PORT"
    check = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}{READY_PATH}" in check and "urllib" in check, check


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


# --- Slack manifest and docs -------------------------------------------------------------------


def test_the_manifest_offers_the_redirect_url_commented_out_and_valid_uncommented() -> None:
    text = (DEPLOY / "slack" / "manifest.yml").read_text(encoding="utf-8")
    as_is = yaml.safe_load(text)
    assert "redirect_urls" not in as_is["oauth_config"]
    assert sorted(as_is["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    uncommented = yaml.safe_load(re.sub(r"^(\s*)# (redirect_urls:|  - https://)", r"\1\2", text, flags=re.M))
    [url] = uncommented["oauth_config"]["redirect_urls"]
    assert url.startswith("https://") and url.endswith(REDIRECT_PATH), url
    # Removing revq deletes what it kept for the workspace, with or without OAuth: always subscribed.
    events = set(as_is["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_uninstalled", "tokens_revoked"} <= events
    code = (REPO / "bot" / "adapters" / "slack" / "app.py").read_text(encoding="utf-8")
    assert all(f'app.event("{event}")' in code for event in ("app_uninstalled", "tokens_revoked"))


def test_deploy_readme_names_no_scope_the_manifest_lacks() -> None:
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_.]+:[a-z_.]+)`", text))
    assert named <= set(BOT_SCOPES), named - set(BOT_SCOPES)


def test_readme_walks_through_oauth_with_the_code_paths() -> None:
    section = deploying_section()
    assert "### Installing in many workspaces (OAuth)" in section
    for needed in (
        f"https://YOUR-HOST{INSTALL_PATH}",
        f"https://YOUR-HOST{REDIRECT_PATH}",
        f"https://YOUR-HOST{EVENTS_PATH}",
        "Basic Information",
        "Manage Distribution",
        *OAUTH_SETTINGS,
        "openssl rand -hex 32",
    ):
        assert needed in section, needed


def test_readme_kubectl_commands_name_the_namespace_and_the_secret_has_every_key() -> None:
    commands = [c for c in shell_commands(deploying_section()) if c.startswith("kubectl")]
    assert "kubectl apply -k deploy/k8s" in commands
    for command in commands:
        words = shlex.split(command)
        creates_it = words[:3] == ["kubectl", "apply", "-f"] and words[3].endswith("namespace.yaml")
        if not creates_it and words[:3] != ["kubectl", "apply", "-k"]:
            assert words[1:3] == ["-n", "revq"], command
    [create] = [c for c in commands if " create secret generic revq-secrets" in c]
    keys = set(re.findall(r"--from-literal=([A-Z_]+)=", create))
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN", *OAUTH_SETTINGS} <= keys, keys
    assert keys <= settings_read_by_the_code(), keys - settings_read_by_the_code()


def test_readme_waits_for_the_discord_pods_before_running_commands_in_them() -> None:
    commands = shell_commands(deploying_section())
    wait = commands.index("kubectl -n revq rollout status statefulset/revq-discord")
    sync = next(i for i, c in enumerate(commands) if c.endswith("revq discord sync"))
    invite = next(i for i, c in enumerate(commands) if "revq discord invite" in c)
    assert wait < sync and wait < invite
    assert "--app-id" in commands[invite]


def test_readme_compose_steps_create_the_env_file_and_start_services_that_exist() -> None:
    section = deploying_section()
    services = set(compose()["services"])
    for heading in ("### Slack with compose", "### Discord with compose"):
        part = section[section.index(heading) :].split("\n### ", 1)[0]
        assert "cp deploy/.env.example deploy/.env" in part, heading
    started = re.findall(r"docker compose -f deploy/compose\.yaml (?:up -d(?: --build)?|run --rm) ([a-z-]+)", section)
    assert started and set(started) <= services, set(started) - services
    assert READY_PATH in section and "127.0.0.1:3000" in section


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
    assert "urllib" in check and f"127.0.0.1:${{PORT:-{DEFAULT_PORT}}}{READY_PATH}" in check, check


def test_dockerfile_installs_the_wheel_with_the_question_bank_and_bakes_in_no_secret() -> None:
    instructions = dockerfile()
    assert any(i.startswith("COPY question_bank") for i in instructions)
    run = " ".join(i for i in instructions if i.startswith("RUN"))
    assert "pip wheel" in run and re.search(r"pip install \S*\.whl", run), run
    for instruction in instructions:
        if instruction.startswith(("ENV", "ARG")):
            assert not re.search(r"TOKEN|SECRET|PASSWORD|xox|xapp", instruction, re.I), instruction


def test_the_wheel_the_image_installs_carries_the_whole_question_bank(tmp_path: Path) -> None:
    """Build the wheel as the Dockerfile does, from the files it copies, and look inside (about 4 s)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        (source / name).write_bytes((REPO / name).read_bytes())
    for name in ("bot", "question_bank"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "out"), source],
        capture_output=True,
        text=True,
        timeout=180,
    )
    offline = r"No matching distribution found for setuptools|Could not fetch URL"
    if done.returncode != 0 and re.search(offline, done.stderr):
        pytest.skip(f"pip cannot fetch setuptools to build the wheel (no package index here): {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    [wheel] = (tmp_path / "out").glob("revq-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
    bank = REPO / "question_bank"
    wanted = {"question_bank/topics.yaml", "question_bank/schema.json"}
    for folder in ("questions", "lexicon"):
        files = {f"question_bank/{folder}/{path.name}" for path in (bank / folder).glob("*.yaml")}
        assert files, folder
        wanted |= files
    assert wanted <= inside, sorted(wanted - inside)
    assert time.monotonic() - started < 120
