"""The production packaging: the Dockerfile, docker-compose.yml, .env.example and .dockerignore.

There is no Docker engine on the test machine: the compose file is validated by Debian's docker-compose (`config`),
the Dockerfile by its structure, and both against the code they run (the `zvh` commands and options, the settings
the code reads, the files the package must carry).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from engine import config
from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

#: The secrets compose refuses to start without; the dummies stand for an operator's .env.
REQUIRED_SECRETS = ("ZVH_DB_PASSWORD", "ZVH_SECRET_KEY", "ZVH_AUDIT_KEY", "ZVH_PSEUDONYM_KEY", "ZVH_TOTP_KEY")
#: A setting read from the environment: a quoted ZVH_* name (os.environ, a click envvar, a helper's argument), but
#: not a Flask config key of the same shape (`app.config["ZVH_IDLE_MINUTES"]`, set in code, not in the environment).
CODE_SETTING = re.compile(r"""(?<!config\[)["'](ZVH_[A-Z0-9_]+)["']""")
#: A `${NAME…}` reference in the compose file (`${NAME}`, `${NAME:-default}`, `${NAME:?error}`).
COMPOSE_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
REQUIRED_REFERENCE = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]+\}$")
SECRET_NAME = re.compile(r"KEY|PASSWORD|SECRET|TOKEN")
#: `name:value@` in a URL: the value must be a required reference, never a password.
URL_CREDENTIALS = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")
BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|npm|nodejs|[a-z0-9.+-]+-dev)\b")


# --- docker-compose.yml ------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return document


def services() -> dict[str, dict[str, Any]]:
    return dict(compose()["services"])


def long_running(service: dict[str, Any]) -> bool:
    """Every service but the one-off ones (`restart: "no"`, the migration)."""
    return str(service.get("restart", "no")) != "no"


def compose_config(folder: Path, *, leave_out: str | None = None) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q` on a copy of the compose file, with .env.example as the operator's .env and the
    secrets (but `leave_out`) set in the environment, as an operator who filled them in would have them."""
    executable = shutil.which("docker-compose")
    assert executable, "docker-compose is missing: run `make system-deps` (Debian's docker-compose package)"
    shutil.copy(COMPOSE, folder / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, folder / ".env")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ZVH_", "COMPOSE_", "DOCKER_"))}
    env.update({name: f"dummy-{name.lower()}" for name in REQUIRED_SECRETS if name != leave_out})
    return subprocess.run(
        [executable, "-f", "docker-compose.yml", "config", "-q"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_config__passes_with_the_secrets_set(tmp_path: Path) -> None:
    result = compose_config(tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_compose_config__refuses_a_missing_secret(tmp_path: Path, secret: str) -> None:
    result = compose_config(tmp_path, leave_out=secret)
    assert result.returncode != 0
    assert secret in result.stderr


def test_compose__every_long_running_service_has_a_healthcheck() -> None:
    running = {name: service for name, service in services().items() if long_running(service)}
    assert {"postgres", "redis", "web", "worker", "beat"} <= running.keys()
    for name, service in running.items():
        test = (service.get("healthcheck") or {}).get("test")
        assert isinstance(test, list), f"{name} has no healthcheck"
        assert test[0] in ("CMD", "CMD-SHELL"), f"{name}: healthcheck {test}"
        assert not service["healthcheck"].get("disable"), name


def test_compose__services_start_after_what_they_need() -> None:
    all_services = services()
    assert all_services["migrate"]["command"] == ["zvh", "init"]
    assert all_services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        needs = {other: condition["condition"] for other, condition in all_services[name]["depends_on"].items()}
        assert needs == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        }, name


def environment_values(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {str(name): str(value) for name, value in environment.items()}


def test_compose__no_secret_is_written_in_the_file() -> None:
    for name, service in services().items():
        for variable, value in environment_values(service).items():
            if SECRET_NAME.search(variable):
                assert REQUIRED_REFERENCE.match(value), f"{name}: {variable} must be ${{{variable}:?…}}, not {value!r}"
            for credentials in URL_CREDENTIALS.finditer(value):
                password = credentials.group("password")
                assert REQUIRED_REFERENCE.match(password), f"{name}: {variable} holds a password: {value!r}"


def test_compose__ports_are_published_on_loopback_only() -> None:
    published = {name: service["ports"] for name, service in services().items() if service.get("ports")}
    assert published.keys() == {"web"}
    for name, ports in published.items():
        for port in ports:
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"


def test_compose__app_processes_share_the_metrics_and_instance_volumes() -> None:
    all_services = services()
    for name in ("migrate", "web", "worker", "beat"):
        environment = environment_values(all_services[name])
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in all_services[name]["volumes"]}
        assert mounts[environment["ZVH_METRICS_DIR"]] == "metrics", name
        assert mounts[environment["ZVH_INSTANCE_PATH"]] == "instance", name
    schedule = all_services["beat"]["command"][all_services["beat"]["command"].index("--schedule") + 1]
    assert Path(schedule).parent == Path(environment_values(all_services["beat"])["ZVH_INSTANCE_PATH"])
    volumes = compose()["volumes"]
    assert set(volumes) >= {"pgdata", "instance", "metrics"}
    # The instance volume starts as a copy of the image's folder, which the image's user owns; the metrics volume is
    # in memory, and that user's too.
    image_environment = dict(item.split("=", 1) for item in " ".join(final_stage().arguments("ENV")).split())
    assert image_environment["ZVH_INSTANCE_PATH"] == environment["ZVH_INSTANCE_PATH"]
    user = final_stage().arguments("USER")[-1].split(":")[0]
    assert volumes["metrics"]["driver_opts"]["type"] == "tmpfs"
    assert f"uid={user}" in volumes["metrics"]["driver_opts"]["o"].split(",")


def substitute_defaults(argument: str) -> str:
    """A compose argument with every variable at its default (`${NAME:-default}`), or a placeholder."""
    return COMPOSE_VARIABLE.sub(lambda match: match.group("arg") if match.group("op") == ":-" else "x", argument)


def zvh_invocations() -> list[tuple[str, list[str]]]:
    """Every `zvh …` the compose file and the Dockerfile run: the commands and the healthchecks."""
    found: list[tuple[str, list[str]]] = []
    for name, service in services().items():
        command = [str(arg) for arg in service.get("command") or []]
        if command[:1] == ["zvh"]:
            found.append((f"{name} command", command))
        test = [str(arg) for arg in (service.get("healthcheck") or {}).get("test") or []]
        if test[:2] == ["CMD", "zvh"]:
            found.append((f"{name} healthcheck", test[1:]))
    image_command = json.loads(final_stage().argument("CMD"))
    found.append(("Dockerfile CMD", image_command))
    return found


def test_compose__runs_only_zvh_commands_and_options_that_exist() -> None:
    invocations = zvh_invocations()
    assert {label for label, _ in invocations} >= {
        "migrate command",
        "web command",
        "worker command",
        "beat command",
        "Dockerfile CMD",
    }
    for label, invocation in invocations:
        subcommand, *args = (substitute_defaults(arg) for arg in invocation[1:])
        assert subcommand in main.commands, f"{label}: there is no `zvh {subcommand}`"
        try:
            main.commands[subcommand].make_context(subcommand, list(args))  # it consumes the list
        except click.UsageError as error:
            pytest.fail(f"{label}: `zvh {subcommand} {' '.join(args)}`: {error.format_message()}")


def test_compose__web_and_worker_health_ask_the_process_itself() -> None:
    all_services = services()
    web = " ".join(all_services["web"]["healthcheck"]["test"])
    assert "urllib.request" in web
    assert "http://127.0.0.1:5000/readyz" in web
    worker = all_services["worker"]["healthcheck"]["test"]
    assert worker[0] == "CMD-SHELL"
    # $$ is compose's escape of $: the container's shell expands HOSTNAME, the worker's default node name.
    assert shlex.split(worker[1])[:5] == ["celery", "-A", "engine.jobs", "inspect", "ping"]
    assert "--destination celery@$$HOSTNAME" in worker[1]


# --- .env.example --------------------------------------------------------------------------------------------------


def documented_settings() -> dict[str, str]:
    """The settings .env.example documents, with their values; each must follow a comment line."""
    settings: dict[str, str] = {}
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        match = re.fullmatch(r"(ZVH_[A-Z0-9_]+)=(.*)", line)
        if match is None:
            assert not line or line.startswith("#"), f".env.example line {number + 1} is no setting: {line!r}"
            continue
        assert match.group(1) not in settings, f"{match.group(1)} is documented twice"
        assert lines[number - 1].startswith("# "), f"{match.group(1)} has no comment"
        settings[match.group(1)] = match.group(2)
    return settings


def settings_read_by_code() -> set[str]:
    return {
        name
        for folder in ("engine", "web")
        for path in (ROOT / folder).rglob("*.py")
        for name in CODE_SETTING.findall(path.read_text(encoding="utf-8"))
    }


def compose_variables() -> set[str]:
    return {match.group("name") for match in COMPOSE_VARIABLE.finditer(COMPOSE.read_text(encoding="utf-8"))}


def test_env_example__documents_every_setting_the_code_reads() -> None:
    read = settings_read_by_code()
    assert {"ZVH_DATABASE_URL", "ZVH_SECRET_KEY", "ZVH_AUDIT_KEY", "ZVH_PROXY_COUNT", "ZVH_WEB_WORKERS"} <= read
    assert "ZVH_IDLE_MINUTES" not in read  # a Flask config key, not an environment variable
    missing = read - documented_settings().keys()
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_env_example__documents_nothing_that_nothing_reads() -> None:
    unread = documented_settings().keys() - settings_read_by_code() - compose_variables()
    assert not unread, f".env.example documents settings nothing reads: {sorted(unread)}"


def test_env_example__every_variable_compose_needs_is_documented() -> None:
    needed = {name for name in compose_variables() if name.startswith("ZVH_")}
    assert needed >= set(REQUIRED_SECRETS)
    assert needed <= documented_settings().keys()


def test_env_example__holds_no_secret_value() -> None:
    secrets = {name: value for name, value in documented_settings().items() if SECRET_NAME.search(name)}
    assert set(REQUIRED_SECRETS) <= secrets.keys()
    assert not {name for name, value in secrets.items() if value}, "a secret has a value in .env.example"
    assert "secrets.token_urlsafe" in ENV_EXAMPLE.read_text(encoding="utf-8")


# --- Dockerfile ----------------------------------------------------------------------------------------------------


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        return [argument for instruction, argument in self.instructions if instruction == keyword]

    def argument(self, keyword: str) -> str:
        (argument,) = self.arguments(keyword)
        return argument


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages, continuation lines joined, comments dropped, global ARG defaults in FROM resolved."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            keyword, _, argument = pending.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(argument.split())))
        pending = ""
    defaults: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, argument in instructions:
        if keyword == "FROM":
            image, _, name = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], argument).partition(" AS ")
            stages.append(Stage(image.strip(), name.strip() or None))
        elif stages:
            stages[-1].instructions.append((keyword, argument))
        elif keyword == "ARG":
            variable, _, default = argument.partition("=")
            defaults[variable] = default
    return stages


def final_stage() -> Stage:
    return dockerfile_stages()[-1]


def test_dockerfile__builds_in_three_stages_onto_a_slim_python() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 3
    assert any(stage.image.startswith("node:20") for stage in stages[:-1])
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", final_stage().image)
    # The virtualenv's python links to the base image's interpreter: both stages use the same image.
    assert venv_builder().image == final_stage().image


def venv_builder() -> Stage:
    """The stage the runtime copies /opt/venv from."""
    (source,) = [
        argument.split()[0].removeprefix("--from=")
        for argument in final_stage().arguments("COPY")
        if argument.startswith("--from=") and argument.split()[1:] == ["/opt/venv", "/opt/venv"]
    ]
    return next(stage for stage in dockerfile_stages()[:-1] if stage.name == source)


def test_dockerfile__runs_as_an_unprivileged_user() -> None:
    user = final_stage().arguments("USER")[-1].split(":")[0]
    assert user not in ("root", "0")
    runs = " ".join(final_stage().arguments("RUN"))
    assert re.search(rf"useradd .*--uid {user}\b" if user.isdigit() else rf"useradd .*\b{user}\b", runs)
    # It owns its instance folder only: the code and the virtualenv stay root's.
    assert re.search(r"install -d -o zvh -g zvh -m 0750 /var/lib/zvh\b", runs)
    assert "chown" not in runs
    assert not any("--chown" in argument for argument in final_stage().arguments("COPY"))


def test_dockerfile__copies_the_venv_from_the_builder_and_no_build_tools() -> None:
    stages = dockerfile_stages()
    assert any("/opt/venv/bin/python install" in run for run in venv_builder().arguments("RUN"))
    runs = final_stage().arguments("RUN")
    installs = [run for run in runs if "apt-get install" in run]
    assert installs, "the runtime installs Pango and the PostgreSQL client"
    for run in installs:
        packages = run.split("apt-get install", 1)[1].split("&&")[0]
        assert not BUILD_TOOLS.search(packages), f"build tools in the runtime stage: {packages}"
        assert {"libpango-1.0-0", "libpangoft2-1.0-0"} <= set(packages.split())
        assert re.search(r"\bpostgresql-client(-1[5-9])?\b", packages)
        assert "rm -rf /var/lib/apt/lists/*" in run, "apt lists stay in the image"
    assert not any(re.search(r"\bpip\b[^&|;]*\binstall\b", run) for run in runs), "the runtime stage installs with pip"
    assert any(re.search(r"pip uninstall --yes (--quiet )?pip setuptools wheel", run) for run in runs)
    assert any("venv --without-pip /opt/venv" in run for stage in stages for run in stage.arguments("RUN"))


def test_dockerfile__installs_the_built_assets_and_translations() -> None:
    steps = [(keyword, argument) for keyword, argument in venv_builder().instructions if keyword in ("COPY", "RUN")]
    assets_at = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and "web/static/build" in a)
    install_at = next(
        i for i, (k, a) in enumerate(steps) if k == "RUN" and "install --only-binary=:all: --compile ." in a
    )
    assert assets_at < install_at
    install = steps[install_at][1]
    assert install.index("pybabel compile") < install.index("--compile .")


def test_dockerfile__processes_and_forms_lie_where_the_engine_looks() -> None:
    """engine.config finds them beside the installed `engine` package: in the virtualenv's site-packages."""
    site_packages = Path("/opt/venv/lib/python3.11/site-packages")
    copies = {argument.split()[0]: argument.split()[1] for argument in final_stage().arguments("COPY")}
    for folder in ("processes", "forms"):
        assert Path(copies[folder]) == site_packages / getattr(config.Settings, f"{folder}_path").relative_to(
            config.PROJECT_ROOT
        )


def test_dockerfile__checks_health_and_serves_on_5000() -> None:
    stage = final_stage()
    assert stage.argument("EXPOSE") == "5000"
    healthcheck = stage.argument("HEALTHCHECK")
    assert "urllib.request" in healthcheck
    assert "http://127.0.0.1:5000/healthz" in healthcheck
    command = json.loads(stage.argument("CMD"))
    assert command[:6] == ["zvh", "serve", "--host", "0.0.0.0", "--port", "5000"]  # noqa: S104 - in its container
    environment = " ".join(stage.arguments("ENV")).split()
    assert {"ZVH_INSTANCE_PATH=/var/lib/zvh", "ZVH_WEB_WORKERS=2"} <= set(environment)


def test_dockerignore__keeps_out_secrets_and_local_state_but_not_the_sources() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    patterns = {pattern for pattern in patterns if pattern and not pattern.startswith("#")}
    assert {".env", ".venv", "node_modules", "instance", ".git", "web/static/build"} <= patterns
    sources = [
        argument.split()[0]
        for stage in dockerfile_stages()
        for argument in stage.arguments("COPY")
        if not argument.startswith("--from=")
    ]
    assert {"engine", "web", "processes", "forms", "pyproject.toml"} <= set(sources)
    for source in sources:
        parents = {str(parent) for parent in Path(source).parents if str(parent) != "."}
        assert not {source, *parents} & patterns, f".dockerignore leaves {source} out of the image"


def test_package_data__carries_every_file_the_code_loads() -> None:
    """`pip install .` in the image ships only package data: every non-Python file of engine/ and web/ is in it
    (but the front-end sources, which the image builds into web/static/build)."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    shipped: set[Path] = set()
    for package, patterns in package_data["package-data"].items():
        for pattern in patterns:
            shipped |= {path for path in (ROOT / package).glob(pattern) if path.is_file()}
    for package in ("engine", "web"):
        for path in (ROOT / package).rglob("*"):
            relative = path.relative_to(ROOT)
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in relative.parts:
                continue
            if relative.parts[:2] == ("web", "assets") or relative == Path("web/babel.cfg"):
                continue
            assert path in shipped, f"{relative} is not in the package data (pyproject.toml)"
