"""The compose topology on loopback under faults: two web processes, two Celery workers and beat on a real PostgreSQL
and Redis, started with the commands and settings of docker-compose.yml, driven over HTTP only.

One scenario in phases: referrals started and triaged alternately through both web processes, a deadline timer fired
by the workers, a backup restored into a new database and compared; then one web process and one worker killed with
SIGKILL and PostgreSQL restarted, while a client carries on through what remains with at most one retry per action.
At the end the audit log proves nothing was lost or done twice, and no log line holds a name or BSN typed into a form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPMessage
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.forms import is_valid_bsn
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_timers import boundary
from tests.services import Postgres, Redis, _wait_until
from tests.topology.cluster import PROJECT_ROOT, Client, Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.celery]

PASSWORD = "topologie-wachtwoord-42"
ESCALATION = "Escaleer te late terugkoppeling"
TRIAGE = "Volledigheid controleren"
#: Invented people (no one is called this) with BSNs from the test range 99999xxxx that pass the elfproef.
NAMES = ["Fenneke Proefhuizen", "Quirijn Lusterbeek", "Odilia Vonkelaar", "Bartholt Kiemstra", "Lieke Zandvoetel"]
NAMES += ["Teunis Loopbakker", "Wobbe Haverkamping", "Ysolde Meertoren"]
REPORTER = "Wijkagent Hanneke Staalwijk"
REFERRALS_BEFORE = 6
REFERRALS_AFTER = 2


def invented_bsns(count: int) -> list[str]:
    candidates = (f"99999{n:04d}" for n in range(10_000))
    return [bsn for bsn in candidates if is_valid_bsn(bsn)][:count]


BSNS = invented_bsns(len(NAMES))


def deadline_bpmn(timer: str) -> str:
    """A screener's task with a boundary timer that hands an escalation to the triagetafel (no second factor)."""
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Koppel terug aan melder")
        + boundary("Late", "T1", timer, interrupting=False)
        + user_task("Esc", ESCALATION)
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "E1")
        + flow("F3", "Late", "Esc")
        + flow("F4", "Esc", "E2")
    )
    return process(
        body,
        process_id="termijn",
        name="Termijnbewaking",
        lanes={"Screener": ["S", "T1", "E1"], "Triagetafel": ["Esc", "E2"]},
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test alone (it gets restarted), a Redis, and whatever processes the test starts:
    all stopped when the test ends, whatever happened."""
    postgres = Postgres.start()
    try:
        redis = Redis.start()
        try:
            topology = Cluster.create(tmp_path, postgres, redis.url, overrides={"ZVH_TIMER_INTERVAL": "1"})
            try:
                yield topology
            finally:
                topology.stop_all()
        finally:
            redis.stop()
    finally:
        (tmp_path / "postgres.log").write_bytes((postgres.root / "pg.log").read_bytes())
        postgres.stop()


# --- the client side --------------------------------------------------------------------------------------------

#: What a user sees of a task in an inbox: task id, task name, instance id.
INBOX_ROW = re.compile(r'href="/taken/([0-9a-f-]{36})">([^<]+)</a></td>\s*<td[^>]*><a[^>]*href="/zaken/(\d+)"')
LOCK_VERSION = re.compile(r'name="_lock_version" value="(\d+)"')

Response = tuple[int, HTTPMessage, str]


class Unanswered(AssertionError):
    """An action that failed on its retry too."""


@dataclass
class User:
    """A signed-in user behind one browser; `retries` counts the actions that needed their one retry."""

    name: str
    client: Client = field(default_factory=Client)
    retries: list[str] = field(default_factory=list)
    last_form: dict[str, object] = field(default_factory=dict)

    def act(self, what: str, ports: list[int], attempt: Callable[[int], Response]) -> Response:
        """Do `attempt` on the first of `ports`; on a connection error or a 5xx, once more (on the next port when the
        first did not answer at all: that one is then left out of `ports` for good)."""
        for tries in range(2):
            port = ports[0]
            try:
                status, headers, body = attempt(port)
            except OSError as error:
                failure = f"{type(error).__name__}: {error}"
                if len(ports) > 1:  # like a load balancer, the client takes a process that does not answer out
                    ports.remove(port)
            else:
                if status < 500:
                    return status, headers, body
                failure = f"HTTP {status}"
            if tries:
                raise Unanswered(f"{self.name}: {what} failed on its retry too ({failure})")
            self.retries.append(f"{what}: {failure}")
        raise AssertionError("unreachable")

    def sign_in(self, port: int) -> None:
        fields = {"gebruikersnaam": self.name, "wachtwoord": PASSWORD, "next": ""}
        status, headers, _body = self.client.post_form(port, "/inloggen", fields)
        assert (status, headers.get("Location")) == (302, "/taken"), f"{self.name} could not sign in ({status})"

    def inbox(self, ports: list[int]) -> list[tuple[str, str, int]]:
        status, _headers, body = self.act("open the inbox", ports, lambda port: self.client.send(port, "GET", "/taken"))
        assert status == 200, f"{self.name}'s inbox answered {status}"
        return [(task_id, name, int(instance)) for task_id, name, instance in INBOX_ROW.findall(body)]

    def start(self, ports: list[int], process_key: str, fields: dict[str, object]) -> int:
        path = f"/starten/{process_key}"
        status, headers, body = self.act(
            f"start {process_key}",
            ports,
            lambda port: self.client.post_form(port, path, {**fields, "_actie": "afronden"}),
        )
        location = str(headers.get("Location") or "")
        assert status == 302, f"{self.name} started no {process_key}: {status} {body[:300]}"
        if location.startswith("/taken/"):  # the starter does the first task: its page names the case
            _status, _headers, page = self.client.send(ports[0], "GET", location)
            location = next(iter(re.findall(r'href="(/zaken/\d+)"', page)), location)
        match = re.fullmatch(r"/zaken/(\d+)", location)
        assert match, f"{self.name} started {process_key} but no case is shown: {location}"
        return int(match.group(1))

    def claim(self, ports: list[int], task_id: str) -> None:
        path = f"/taken/{task_id}/oppakken"
        status, _h, _b = self.act(
            "claim", ports, lambda port: self.client.post_form(port, path, {}, token_from="/taken")
        )
        assert status == 302, f"{self.name} could not claim {task_id}: {status}"

    def complete(self, ports: list[int], task_id: str, fields: dict[str, object]) -> Response:
        """Open the task (its CSRF token and lock version), then submit it."""

        def attempt(port: int) -> Response:
            status, headers, page = self.client.send(port, "GET", f"/taken/{task_id}")
            if status != 200:
                return status, headers, page
            token = re.search(r'name="csrf-token" content="([^"]+)"', page)
            version = LOCK_VERSION.search(page)
            assert token and version, f"task page {task_id} has no CSRF token or lock version"
            form = {**fields, "_lock_version": version.group(1), "_actie": "afronden", "csrf_token": token.group(1)}
            self.last_form = form
            return self.client.send(port, "POST", f"/taken/{task_id}", form)

        return self.act(f"complete {task_id}", ports, attempt)

    def submit_again(self, port: int, task_id: str) -> Response:
        """The same form posted a second time (a double click, or a retry whose first answer was lost)."""
        return self.client.send(port, "POST", f"/taken/{task_id}", self.last_form)


def referral(index: int) -> dict[str, object]:
    return {
        "aanmelddatum": "2026-11-27",
        "melder.organisatie": "Politie",
        "melder.naam": REPORTER,
        "melder.email": "wijkagent.staalwijk@example.org",
        "gemeente": "Breda",
        "betrokkenen.0.naam": NAMES[index],
        "betrokkenen.0.bsn": BSNS[index],
        "betrokkenen.0.rol": "hoofdbetrokkene",
        "aanleiding": "Overlast en schulden lopen op; de eigen aanpak van de partners is vastgelopen.",
        "doel_casusoverleg": "Een gezamenlijk plan van aanpak met zorg en veiligheid.",
        "leefgebieden": ["Wonen", "Financiën en schulden"],
        "betrokkene_geinformeerd": "true",
        "spoed": "false",
        "radicaliseringssignaal": "false",
    }


def open_triage(screener: User, ports: list[int]) -> dict[int, str]:
    """The screener's open completeness checks, by instance."""
    return {instance: task_id for task_id, name, instance in screener.inbox(ports) if name == TRIAGE}


def escalated(user: User, ports: list[int], instance: int) -> bool:
    return any(name == ESCALATION and inst == instance for _id, name, inst in user.inbox(ports))


# --- the database side (for the checks only; the users above never touch it) ------------------------------------


def query(cluster: Cluster, sql: str, database: str | None = None) -> list[tuple[object, ...]]:
    dsn = f"postgresql://postgres@127.0.0.1:{cluster.postgres.port}/{database or cluster.database}"
    with psycopg.connect(dsn) as connection:
        return list(connection.execute(sql).fetchall())


def table_digests(cluster: Cluster, database: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of all its rows, in a fixed order."""
    tables = [row[0] for row in query(cluster, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database)]
    return {
        str(name): tuple(
            query(
                cluster,
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM \"{name}\" t",  # noqa: S608 - names from pg_tables
                database,
            )[0]
        )
        for name in sorted(tables)
    }


def metric_samples(response: Response) -> dict[tuple[str, str], float]:
    """The samples of a /metrics answer by name and `process` (or `status`) label."""
    status, _headers, body = response
    assert status == 200, f"/metrics answered {status} on loopback"
    return {
        (sample.name, sample.labels.get("process") or sample.labels.get("status") or ""): float(sample.value)
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def completions_per_task(cluster: Cluster) -> dict[str, int]:
    rows = query(cluster, "SELECT task_id, count(*) FROM audit_events WHERE action = 'complete' GROUP BY task_id")
    return {str(task_id): int(count) for task_id, count in rows}


# --- the scenario -----------------------------------------------------------------------------------------------


def test_topology__two_web_processes_two_workers_and_beat_carry_on_through_kills_and_a_database_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    # Phase 0: the compose `migrate` service; then the processes start while the CLI deploys and adds the users.
    cluster.migrate()
    web_a, web_b = cluster.web("web-a"), cluster.web("web-b")
    worker_1, worker_2 = cluster.worker("worker-1"), cluster.worker("worker-2")
    beat = cluster.beat()
    termijn = write(tmp_path, "termijn.bpmn", deadline_bpmn('"PT2S"'))
    cluster.zvh("deploy", str(PROJECT_ROOT / "processes" / "aanmelding_triage.bpmn"), str(termijn))
    users = [("mila", "melder", "politie"), ("sven", "screener", "zvh"), ("tess", "triagetafel", "zvh")]
    cluster.zvh_together(
        [
            ["users", "add", name, "--role", role, "--organisation", organisation, "--gemeente", "breda",
             "--password-stdin"]
            for name, role, organisation in users
        ],
        stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    cluster.wait_ready(web_a, web_b, worker_1, worker_2, beat, timeout=90)
    assert web_a.port and web_b.port
    a, b = web_a.port, web_b.port
    both = [[a], [b]]

    # Phase 1: sign in (one browser each, used on both web processes), start referrals and triage them alternately.
    mila, sven, tess = User("mila"), User("sven"), User("tess")
    mila.sign_in(a)
    sven.sign_in(b)
    tess.sign_in(a)
    first_deadline = sven.start([a], "termijn", {})
    started = [mila.start(both[i % 2], "aanmelding_triage", referral(i)) for i in range(REFERRALS_BEFORE)]
    assert len(set(started)) == REFERRALS_BEFORE, f"referrals share a case: {started}"
    status, _headers, case_page = mila.client.send(b, "GET", f"/zaken/{started[0]}")
    assert status == 200 and NAMES[0] in case_page, "the person typed into the referral is not in its case"
    triage = open_triage(sven, [a])
    assert set(started) <= set(triage), f"not every referral reached triage: {started} vs {sorted(triage)}"
    completed: list[str] = []
    for i, instance in enumerate(started[:4]):
        task_id = triage[instance]
        sven.claim(both[(i + 1) % 2], task_id)  # claimed through one web process, completed through the other
        status, _headers, _body = sven.complete(both[i % 2], task_id, {"aanmelding_volledig": "true"})
        assert status == 302, f"completing triage of case {instance} through web-{'ab'[i % 2]} answered {status}"
        completed.append(task_id)
    assert not set(completed) & set(open_triage(sven, [b]).values()), "a completed triage task is still open"

    # The deadline passes: beat queues the due-timer scan, a worker fires it, the triagetafel sees the escalation.
    _wait_until(lambda: escalated(tess, [b], first_deadline), "the escalation of the first deadline", timeout=30)
    assert not sven.retries + mila.retries + tess.retries, f"retries before any fault: {sven.retries + mila.retries}"

    # Phase 2: a backup of the running cluster, restored into a new, empty database, holds the same.
    backup = tmp_path / "zvh.backup"
    cluster.zvh("backup", str(backup))
    cluster.postgres.create_database("zvh_restored")
    restored_env = {**cluster.env, "ZVH_DATABASE_URL": cluster.postgres.url("zvh_restored")}
    cluster.zvh("restore", str(backup), env=restored_env)
    live, restored = table_digests(cluster, cluster.database), table_digests(cluster, "zvh_restored")
    differing = {name for name in live.keys() | restored.keys() if live.get(name) != restored.get(name)}
    # Jobs keep running during the backup; only their bookkeeping may have moved on since.
    assert differing <= {"job_marks", "notifications"}, f"restored database differs in {sorted(differing)}"
    for name in ("instances", "human_tasks", "completed_tasks", "audit_events"):
        assert live[name] == restored[name], f"{name} differ after restore: {live[name]} vs {restored[name]}"

    # Phase 3: faults. Web process A and worker 1 die with SIGKILL; the clients carry on through B.
    web_a.kill()
    worker_1.kill()
    remaining = [a, b]  # the users still think A is there: their next action fails there and is retried on B
    more = [mila.start(remaining, "aanmelding_triage", referral(REFERRALS_BEFORE + i)) for i in range(REFERRALS_AFTER)]
    assert mila.retries, "the first action after web-a was killed was not retried (was web-a really down?)"
    triage = open_triage(sven, remaining)
    for instance in started[4:]:
        sven.claim(remaining, triage[instance])
        status, _h, _b = sven.complete(remaining, triage[instance], {"aanmelding_volledig": "true"})
        assert status == 302, f"completing triage of case {instance} after the kill answered {status}"
        completed.append(triage[instance])

    # A double submit of the last one is answered as done already, and does nothing.
    status, _headers, body = sven.submit_again(b, completed[-1])
    assert status == 409 and "al afgerond" in body, f"a second submit of a completed task answered {status}"

    # PostgreSQL restarts once; the remaining web process, worker and beat carry on.
    cluster.restart_postgres()
    second_deadline = sven.start([b], "termijn", {})
    triage = open_triage(sven, [b])
    for instance in more:
        sven.claim([b], triage[instance])
        status, _h, _b = sven.complete([b], triage[instance], {"aanmelding_volledig": "true"})
        assert status == 302, f"completing triage of case {instance} after the database restart answered {status}"
        completed.append(triage[instance])
    _wait_until(lambda: escalated(tess, [b], second_deadline), "the escalation after the faults", timeout=30)
    assert web_b.alive() and worker_2.alive() and beat.alive(), "a process that was not killed died"
    assert cluster.ready(web_b), "web-b is not ready after the database restart"

    retried = [f"{user.name}: {retry}" for user in (mila, sven, tess) for retry in user.retries]
    (tmp_path / "retries.txt").write_text("\n".join(retried), encoding="utf-8")
    for user in (mila, sven, tess):  # one action per fault at most: after the kill, after the restart
        assert len(user.retries) <= 2, f"{user.name} needed a retry too often: {user.retries}"

    # Nothing lost, nothing done twice: one start per referral, one completion per completed task.
    referrals = query(cluster, "SELECT i.id FROM instances i JOIN process_versions v ON v.id = i.process_version_id "
                               "WHERE v.process_key = 'aanmelding_triage'")  # fmt: skip
    assert sorted(r[0] for r in referrals) == sorted(started + more), "referrals lost or started twice"
    starts = query(
        cluster, "SELECT instance_id, count(*) FROM audit_events WHERE action = 'start' GROUP BY instance_id"
    )
    assert all(count == 1 for _instance, count in starts), f"an instance was started twice: {starts}"
    per_task = completions_per_task(cluster)
    assert {task: per_task.get(task, 0) for task in completed} == dict.fromkeys(completed, 1), (
        f"completions per task: {per_task}"
    )
    assert all(count == 1 for count in per_task.values()), f"a task was completed twice: {per_task}"
    cluster.zvh("audit", "verify")

    # /metrics adds up every process through ZVH_METRICS_DIR, the killed ones included: what the web processes and
    # the workers counted is what the database holds.
    scraped = metric_samples(sven.client.send(b, "GET", "/metrics"))
    by_process = query(cluster, "SELECT process_key, count(*) FROM completed_tasks GROUP BY process_key")
    assert {key: scraped.get(("zvh_task_completions_total", key), 0) for key, _n in by_process} == {
        key: float(count) for key, count in by_process
    }, "completions counted by the web processes differ from the database"
    [(timers,)] = query(cluster, "SELECT count(*) FROM audit_events WHERE action = 'timer'")
    fired = sum(value for (name, _process), value in scraped.items() if name == "zvh_timers_fired_total")
    assert timers >= 2 and fired == float(timers), f"the workers counted {fired} timers, the audit log holds {timers}"
    assert scraped.get(("zvh_instances", "running"), 0) >= REFERRALS_BEFORE, "instances by status read at scrape time"

    # No log line of any process holds a name or BSN typed into a form.
    cluster.stop_all()
    logs = {path.name: path.read_text(encoding="utf-8", errors="replace") for path in sorted(tmp_path.glob("*.log"))}
    logs["postgres.log"] = (cluster.postgres.root / "pg.log").read_text(encoding="utf-8", errors="replace")
    assert set(logs) >= {"web-a.log", "web-b.log", "worker-1.log", "worker-2.log", "beat.log", "cli.log"}
    assert all(logs[name].strip() for name in ("web-b.log", "worker-2.log", "beat.log")), "a process logged nothing"
    typed = [*NAMES, *BSNS, REPORTER, "Staalwijk", "wijkagent.staalwijk"]
    leaks = {(name, secret) for name, text in logs.items() for secret in typed if secret in text}
    assert not leaks, f"personal data in the logs: {sorted(leaks)}"
