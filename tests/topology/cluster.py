"""The compose topology on loopback: PostgreSQL, Redis, web processes, Celery workers and beat, each a real process.

The commands and the application's environment come from docker-compose.yml itself, with hosts, ports and paths
replaced by loopback ones, so the test runs what an operator runs. Every process gets its own process group and its
own log file; `stop_all` ends them (SIGTERM, then SIGKILL after a timeout) whatever state the test left them in.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.services import Postgres, _as_postgres, _wait_until, free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
ZVH = str(Path(sys.executable).with_name("zvh"))

#: `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, and `$$` for a literal `$`.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Resolve compose-style variables in `value` against `variables` (what compose reads from the shell or .env)."""

    def resolve(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        present = name in variables
        empty = not variables.get(name)
        if (op in (":-", ":?") and empty) or (op in ("-", "?") and not present):
            if op.endswith("?"):
                raise KeyError(f"docker-compose.yml needs {name}: {arg}")
            return interpolate(arg, variables)
        if op is None and not present:
            raise KeyError(f"docker-compose.yml uses {name}, which the test does not set")
        return variables.get(name, "")

    return _VARIABLE.sub(resolve, value)


@dataclass(frozen=True)
class ComposeFile:
    """What the test takes from docker-compose.yml: each service's command and the app services' environment."""

    commands: dict[str, list[str]]
    #: the environment of the app services (`x-app`), uninterpolated
    app_environment: dict[str, str]

    @classmethod
    def read(cls, path: Path = COMPOSE_FILE) -> ComposeFile:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        services: dict[str, Any] = document["services"]
        commands = {
            name: list(map(str, service["command"])) for name, service in services.items() if "command" in service
        }
        environment = services["web"].get("environment") or {}
        if isinstance(environment, list):  # the list form: NAME=value
            environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
        for name in ("worker", "beat", "migrate"):
            other = services[name].get("environment") or {}
            assert other == services["web"].get("environment"), f"compose service {name} has another environment"
        return cls(commands=commands, app_environment={str(k): str(v) for k, v in environment.items()})


def loopback_command(command: list[str], variables: Mapping[str, str], **options: str) -> list[str]:
    """A compose command for this machine: `zvh` from this virtualenv, variables resolved, and every option named
    in `options` (`host`, `port`, `schedule`) given the loopback value instead of the container one."""
    resolved = [interpolate(arg, variables) for arg in command]
    assert resolved[0] == "zvh", f"compose command {command} does not run zvh"
    result = [ZVH]
    args = iter(resolved[1:])
    for arg in args:
        name = arg.removeprefix("--").split("=", 1)[0]
        if arg.startswith("--") and name in options:
            if "=" not in arg:
                next(args)
            result += [arg.split("=", 1)[0], options[name]]
        else:
            result.append(arg)
    missing = {f"--{name}" for name in options} - set(result)
    assert not missing, f"compose command {command} has no {', '.join(sorted(missing))}"
    return result


@dataclass
class Started:
    """One process of the topology, in its own process group, writing everything to its own log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: a gunicorn master with its workers, or a Celery worker with its pool."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20.0) -> None:
        """A warm shutdown of the group, then a kill for whatever has not stopped after `timeout` seconds."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):  # children that outlived their parent
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(timeout=30)


def _secret_variables() -> dict[str, str]:
    """What an operator's .env holds: fresh secrets for this run."""
    names = ("ZVH_SECRET_KEY", "ZVH_AUDIT_KEY", "ZVH_PSEUDONYM_KEY", "ZVH_TOTP_KEY", "ZVH_DB_PASSWORD")
    return {name: secrets.token_urlsafe(32) for name in names}


@dataclass
class Cluster:
    """The topology of docker-compose.yml on loopback; processes are added with `web`, `worker` and `beat`."""

    folder: Path
    postgres: Postgres
    redis_url: str
    database: str
    compose: ComposeFile
    #: the shell/.env variables compose interpolates (`${…}` in the file)
    variables: dict[str, str]
    env: dict[str, str]
    processes: list[Started] = field(default_factory=list)

    @classmethod
    def create(cls, folder: Path, postgres: Postgres, redis_url: str, *, overrides: Mapping[str, str]) -> Cluster:
        compose = ComposeFile.read()
        database = "zvh"
        postgres.create_database(database)
        variables = {**_secret_variables(), **overrides}
        loopback = {
            "ZVH_DATABASE_URL": postgres.url(database),
            "ZVH_REDIS_URL": redis_url,
            "ZVH_INSTANCE_PATH": str(folder / "instance"),
            "ZVH_METRICS_DIR": str(folder / "metrics"),
        }
        (folder / "metrics").mkdir()
        (folder / "instance").mkdir()
        app_env = {
            name: loopback[name] if name in loopback else interpolate(value, variables)
            for name, value in compose.app_environment.items()
        }
        for name in ("ZVH_DATABASE_URL", "ZVH_REDIS_URL", "ZVH_SECRET_KEY"):
            assert name in app_env, f"docker-compose.yml does not give the app {name}"
        base = {k: v for k, v in os.environ.items() if not k.startswith("ZVH_")}
        env = {**base, **app_env, **{k: v for k, v in overrides.items() if k.startswith("ZVH_")}}
        return cls(folder, postgres, redis_url, database, compose, variables, env)

    # --- one-off commands -------------------------------------------------------------------------------------

    def zvh(self, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
        """Run a `zvh` command to completion against the cluster (or `env`); its output is logged, and returned."""
        return self.zvh_together([list(args)], stdin=stdin, env=env)[0]

    def zvh_together(
        self, commands: list[list[str]], *, stdin: str | None = None, env: Mapping[str, str] | None = None
    ) -> list[str]:
        """Run `zvh` commands side by side (each start-up imports the whole app: seconds on this machine)."""
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        running = [subprocess.Popen([ZVH, *args], env=dict(env or self.env), text=True, **pipes) for args in commands]
        outputs = []
        for args, popen in zip(commands, running, strict=True):
            stdout, stderr = popen.communicate(stdin, timeout=120)
            with (self.folder / "cli.log").open("a", encoding="utf-8") as log:
                log.write(f"$ zvh {args[0]}\n{stdout}{stderr}")
            assert popen.returncode == 0, f"zvh {' '.join(args)} exited {popen.returncode}: {stderr[-2000:]}"
            outputs.append(stdout)
        return outputs

    def migrate(self) -> None:
        """The compose `migrate` service: its command, run to completion."""
        command = loopback_command(self.compose.commands["migrate"], self.variables)
        self.zvh(*command[1:])

    # --- long-running processes -------------------------------------------------------------------------------

    def _start(self, name: str, command: list[str], *, port: int | None = None) -> Started:
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.folder,
                start_new_session=True,
            )
        started = Started(name, popen, log, port)
        self.processes.append(started)
        return started

    def web(self, name: str) -> Started:
        port = free_port()
        command = loopback_command(self.compose.commands["web"], self.variables, host="127.0.0.1", port=str(port))
        return self._start(name, command, port=port)

    def worker(self, name: str) -> Started:
        command = loopback_command(self.compose.commands["worker"], self.variables)
        # In compose each worker has a container of its own, hence a node name of its own; here they share a host.
        return self._start(name, [*command, f"--hostname={name}@%h"])

    def beat(self) -> Started:
        schedule = str(self.folder / "celerybeat-schedule")
        return self._start("beat", loopback_command(self.compose.commands["beat"], self.variables, schedule=schedule))

    def wait_ready(self, *processes: Started, timeout: float = 60.0) -> None:
        try:
            _wait_until(lambda: all(self.ready(p) for p in processes), "the topology's processes", timeout=timeout)
        except RuntimeError:
            late = [p for p in processes if not _answers(lambda p=p: self.ready(p))]
            tails = "\n".join(f"--- {p.name} (exit {p.popen.poll()}):\n{p.log_text()[-2000:]}" for p in late)
            raise AssertionError(f"not ready within {timeout:.0f} s: {[p.name for p in late]}\n{tails}") from None

    def ready(self, process: Started) -> bool:
        if not process.alive():
            raise AssertionError(f"{process.name} exited {process.popen.returncode}:\n{process.log_text()[-3000:]}")
        if process.port is not None:
            return web_ready(process.port)
        if process.name.startswith("beat"):
            return "beat: Starting..." in process.log_text()
        return " ready." in process.log_text()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes:
            process.stop()

    # --- PostgreSQL -------------------------------------------------------------------------------------------

    def restart_postgres(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, the server comes back on the same port and options."""
        data = self.postgres.root / "data"
        log = self.postgres.root / "pg.log"
        command = [str(self.postgres.bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
        subprocess.run(_as_postgres([*command, "-m", "fast", "restart"]), check=True, capture_output=True)


def _answers(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except Exception:
        return False


def web_ready(port: int) -> bool:
    """GET /readyz answers 200 with status ok: database reachable, migrations at head, Redis reachable."""
    status, _headers, body = request(port, "GET", "/readyz")
    return status == 200 and json.loads(body).get("status") == "ok"


def request(
    port: int, method: str, path: str, *, fields: Mapping[str, Any] | None = None, cookies: Mapping[str, str] = {}
) -> tuple[int, http.client.HTTPMessage, str]:
    """One HTTP request on a fresh connection; `fields` are sent as a form (a list value repeats the field)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if fields is not None:
        body = urllib.parse.urlencode(list(_pairs(fields)))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", errors="replace")
    finally:
        connection.close()


def _pairs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, str(item)))
    return pairs


CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Client:
    """A browser without JavaScript: one cookie jar (cookies are per host, not per port, so one sign-in serves
    every web process), forms posted with the page's CSRF token, redirects returned rather than followed."""

    cookies: dict[str, str] = field(default_factory=dict)

    def send(
        self, port: int, method: str, path: str, fields: Mapping[str, Any] | None = None
    ) -> tuple[int, http.client.HTTPMessage, str]:
        status, headers, body = request(port, method, path, fields=fields, cookies=self.cookies)
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie and "expires=Thu, 01 Jan 1970" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return status, headers, body

    def token(self, port: int, path: str) -> str:
        status, _headers, body = self.send(port, "GET", path)
        assert status == 200, f"GET {path} answered {status}"
        match = CSRF.search(body)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(
        self, port: int, path: str, fields: Mapping[str, Any], *, token_from: str | None = None
    ) -> tuple[int, http.client.HTTPMessage, str]:
        token = self.token(port, token_from or path)
        return self.send(port, "POST", path, {**fields, "csrf_token": token})
