#!/usr/bin/env python
"""`make chaos`: kill Redis and restart PostgreSQL under load, and check what the clients saw.

Everything runs on private servers this script starts and always stops (the
shared PostgreSQL on :5432 and Redis on :6379 are never touched):

1. a PostgreSQL cluster under .var/chaos/ (the pgserver wheel's binaries, as
   scripts/services.py uses; run as the `pgserver` user when we are root) and a
   redis-server, each on a free port;
2. the app: migrate_schemas, then setup_demo --batches 2000 (the company `demo`
   with one user per role), then gunicorn (gunicorn.conf.py, production
   settings) on a free port;
3. a mixed load from several client threads: API lists and intake POSTs with a
   Bearer token, HTML pages with a session cookie, each on a new connection;
4. the phases, each under that load:
   - baseline: nothing breaks; every request must be 2xx;
   - redis: Redis is SIGKILLed, then started again; every request must be 2xx;
   - postgres: `pg_ctl stop -m fast`, a pause (--outage, 20 s), `pg_ctl start`.
     Requests during the outage may fail, but only as a well-formed 503 (JSON
     with code service_unavailable under /api/, the "Back in a moment" page
     elsewhere, both with Retry-After). No 500, no other status, no reset
     connection, no timeout. After PostgreSQL is back: a 2xx within
     FIRST_2XX_LIMIT seconds, no 503 answered later than RECOVERY_LIMIT
     seconds, every request sent after that succeeds, and gunicorn's master
     and workers are the same processes as before (no restart);
   - gunicorn-worker: one gunicorn worker is SIGKILLed mid-load. Requests it
     had in flight may fail (a reset connection), nothing else: no 5xx at all,
     the master starts a replacement, and every request sent a second after
     the kill is 2xx;
   - job-worker: the job worker (`manage.py procrastinate worker`, which the
     harness supervises as compose's `restart:` would) is SIGKILLed while a
     job holds its transaction open, and started again. The job must run again
     (core.jobs.retry_stalled_jobs) and its effect be there exactly once;
   - metrics: /metrics, scraped at the end, counts at least every response
     the clients got, whichever worker (alive or killed) answered it: the
     workers' numbers add up (PROMETHEUS_MULTIPROC_DIR, gunicorn.conf.py).

The API throttles are lifted for the run, as `make bench` does: six clients
sharing one clerk's token are far above its 1200/minute, and 429s would hide
what the faults do.

It prints a table, writes bench/results/chaos.json (--out), and exits 1 if an
assertion failed. docs/RELIABILITY.md explains the method and the results.
"""

import argparse
import atexit
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
STATIC_ROOT = ROOT / "staticfiles"
HOST = "demo.localhost"
PASSWORD = "fruitpak-demo"
CLERK = "clerk@demo.localhost"
# After PostgreSQL answers again, "within a few seconds": the first 2xx within FIRST_2XX_LIMIT, and no 503
# later than RECOVERY_LIMIT (a request may have started waiting DB_POOL_TIMEOUT = 5 s for a connection
# just before the return).
FIRST_2XX_LIMIT = 4.0
RECOVERY_LIMIT = 8.0
REQUEST_TIMEOUT = 40.0
# A killed gunicorn worker: every request sent this long after the kill must be 2xx, and the master must
# have replaced the worker within REPLACE_LIMIT.
AFTER_KILL_LIMIT = 1.0
REPLACE_LIMIT = 15.0
# The job worker: silent this long, its job is queued again; the whole kill-and-retry must end in JOB_LIMIT.
JOB_STALLED_SECONDS = 3
JOB_HOLD_SECONDS = 6
JOB_LIMIT = 60.0
# The production defaults of fruitpak/settings/base.py, recorded with the results.
POOL_DEFAULTS = {"DB_POOL_MIN": "1", "DB_POOL_MAX": "4", "DB_POOL_TIMEOUT": "5", "DB_CONNECT_TIMEOUT": "3",
                 "DB_POOL_RECONNECT_TIMEOUT": "5"}


def say(message):
    print(f"chaos: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")


# --- The private servers -----------------------------------------------------------


class Postgres:
    """A throwaway cluster from the pgserver wheel's binaries, on 127.0.0.1:<port>."""

    def __init__(self, folder: Path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from pgserver import _commands, utils
        self.bin = _commands.POSTGRES_BIN_PATH
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.user = None
        self.started = False
        folder.mkdir(parents=True)
        if platform.system() != "Windows" and os.geteuid() == 0:
            # PostgreSQL refuses to run as root; pgserver runs it as its own user, and so do we.
            self.user = "pgserver"
            entry = utils.ensure_user_exists(self.user)
            utils.ensure_prefix_permissions(folder)
            utils.ensure_folder_permissions(self.bin, 0o055)
            utils.ensure_folder_permissions(self.bin.parent / "lib", 0o044)
            os.chown(folder, entry.pw_uid, entry.pw_gid)

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/fruitpak"

    def _run(self, *args, check=True):
        return subprocess.run([str(self.bin / args[0]), *args[1:]], user=self.user, check=check, cwd=self.folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)

    def init(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self):
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self.started = True

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)
        self.started = False

    def answers(self):
        try:
            with psycopg.connect(self.url.replace("/fruitpak", "/postgres"), connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def create_database(self):
        with psycopg.connect(self.url.replace("/fruitpak", "/postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE fruitpak")


class Redis:
    def __init__(self, folder: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise SystemExit("chaos: redis-server is missing (apt-get install redis-server)")
        self.folder = folder
        folder.mkdir(parents=True)
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, "redis-server", 10)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()  # SIGKILL: no goodbye to the clients
            self.process.wait()

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class JobWorker:
    """`manage.py procrastinate worker`, started again by start() after a kill, as compose's restart would."""

    def __init__(self, folder: Path, env):
        self.folder = folder
        self.env = env
        self.process = None

    def start(self):
        with open(self.folder / "worker.log", "ab") as log:
            self.process = subprocess.Popen([str(PYTHON), "manage.py", "procrastinate", "worker"], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=log)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def ensure_running(self):
        """Start it again if it ended by itself; True if it had."""
        if self.process.poll() is None:
            return False
        say(f"the job worker had ended (status {self.process.returncode}); starting it again")
        self.start()
        return True

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Gunicorn:
    def __init__(self, folder: Path, env):
        self.folder = folder
        self.port = free_port()
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_CONTROL_SOCKET": "off",
                    "GUNICORN_ERROR_LOG": str(folder / "gunicorn.log")}
        self.process = None

    def start(self):
        # The app's own log lines (Django's, psycopg.pool's) go to app.log; --keep keeps it.
        with open(self.folder / "app.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "--pid", str(self.folder / "gunicorn.pid")],
                cwd=ROOT, env=self.env, stdout=log, stderr=log,
            )

        def healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.folder / 'gunicorn.log'}")
            try:
                return request("GET", "/health", self.port, timeout=2).status == 200
            except OSError:
                return False

        wait_for(healthy, "gunicorn", 60)

    def workers(self):
        """The master's pid and its workers' pids: the same set after a phase means nothing restarted."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *sorted(int(pid) for pid in children.read_text().split())]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- HTTP --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes


def request(method, path, port, *, headers=None, body=None, timeout=REQUEST_TIMEOUT):
    """One request on a new connection, as a load balancer's fresh upstream connection would be."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": HOST, "Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def cookie(answer, name):
    for key, value in answer.headers.items():
        if key == "set-cookie":
            match = re.search(rf"(?:^|, ){name}=([^;]+)", value)
            if match:
                return match.group(1)
    return None


def api_token(port):
    answer = request("POST", "/api/auth/login", port, headers={"Content-Type": "application/json"},
                     body=json.dumps({"email": CLERK, "password": PASSWORD}))
    if answer.status != 200:
        raise RuntimeError(f"API login failed: {answer.status} {answer.body[:300]!r}")
    return json.loads(answer.body)["access_token"]


def session_cookie(port):
    form = request("GET", "/login/", port)
    csrf_cookie = cookie(form, "csrftoken")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
    if form.status != 200 or not csrf_cookie or not match:
        raise RuntimeError(f"the login page has no CSRF token: {form.status}")
    body = urllib.parse.urlencode({"username": CLERK, "password": PASSWORD,
                                   "csrfmiddlewaretoken": match.group(1).decode()})
    answer = request("POST", "/login/", port, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}",
    })
    session = cookie(answer, "sessionid")
    if answer.status != 302 or not session:
        raise RuntimeError(f"HTML login failed: {answer.status}")
    return session


# --- Load ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    start: float
    end: float
    status: int | None
    # ok (2xx), unavailable (a well-formed 503), or the failure: bad-503, http-<status>, reset, timeout, error
    result: str
    detail: str = ""


@dataclass
class Load:
    port: int
    token: str
    session: str
    growers: list
    packhouses: list
    outcomes: list = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def requests(self, rng):
        bearer = {"Authorization": f"Bearer {self.token}"}
        page = {"Cookie": f"sessionid={self.session}"}
        yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
        choice = rng.random()
        if choice < 0.30:
            return "api_list", "GET", f"/api/batches/?limit=20&offset={rng.randrange(0, 200)}", bearer, None
        if choice < 0.45:
            return "api_list", "GET", "/api/growers/?limit=50", bearer, None
        if choice < 0.60:
            body = {"grower": rng.choice(self.growers), "packhouse": rng.choice(self.packhouses),
                    "fruit_type": "apple", "variety": "Gala", "harvest_date": yesterday, "bin_count": 8,
                    "gross_weight_kg": "3200.00", "tare_weight_kg": "320.00"}
            return ("api_intake", "POST", "/api/batches/", {**bearer, "Content-Type": "application/json"},
                    json.dumps(body))
        if choice < 0.85:
            return "page", "GET", f"/batches/?page={rng.randrange(1, 5)}", page, None
        return "page", "GET", "/", page, None

    def client(self, seed):
        rng = random.Random(seed)
        while not self.stopping.is_set():
            kind, method, path, headers, body = self.requests(rng)
            start = time.monotonic()
            try:
                answer = request(method, path, self.port, headers=headers, body=body)
            except TimeoutError:
                self.outcomes.append(Outcome(kind, start, time.monotonic(), None, "timeout", path))
                continue
            except (ConnectionError, http.client.HTTPException) as exc:
                self.outcomes.append(Outcome(kind, start, time.monotonic(), None, "reset", f"{path}: {exc!r}"))
                continue
            except OSError as exc:
                self.outcomes.append(Outcome(kind, start, time.monotonic(), None, "error", f"{path}: {exc!r}"))
                continue
            result = classify(kind, answer)
            detail = "" if result in ("ok", "unavailable") else f"{path}: {answer.body[:300].decode(errors='replace')}"
            self.outcomes.append(Outcome(kind, start, time.monotonic(), answer.status, result, detail))

    def run(self, clients, scenario):
        """Run the load from `clients` threads while scenario() breaks things; return the outcomes."""
        self.outcomes, self.stopping = [], threading.Event()
        threads = [threading.Thread(target=self.client, args=(seed,), daemon=True) for seed in range(clients)]
        for thread in threads:
            thread.start()
        try:
            events = scenario()
        finally:
            self.stopping.set()
            for thread in threads:
                thread.join(REQUEST_TIMEOUT + 5)
        return self.outcomes, events


def classify(kind, answer):
    if 200 <= answer.status < 300:
        return "ok"
    if answer.status != 503:
        return f"http-{answer.status}"
    if not answer.headers.get("retry-after"):
        return "bad-503"
    if kind.startswith("api"):
        try:
            body = json.loads(answer.body)
        except ValueError:
            return "bad-503"
        return "unavailable" if body.get("code") == "service_unavailable" and body.get("detail") else "bad-503"
    return "unavailable" if b"Back in a moment" in answer.body and b"Traceback" not in answer.body else "bad-503"


# --- Phases ----------------------------------------------------------------------------------------


def phase_baseline(load, clients, seconds):
    outcomes, events = load.run(clients, lambda: time.sleep(seconds) or {})
    failures = [o for o in outcomes if o.result != "ok"]
    return summarize("baseline", outcomes, events, failures=failures, checks={"every request 2xx": not failures})


def phase_redis(load, clients, redis):
    t0 = time.monotonic()

    def scenario():
        time.sleep(3)
        redis.kill()
        killed = time.monotonic()
        say("Redis killed (SIGKILL)")
        time.sleep(6)
        redis.start()
        back = time.monotonic()
        say("Redis started again")
        time.sleep(5)
        return {"redis_killed_at_s": killed - t0, "redis_back_at_s": back - t0}

    outcomes, events = load.run(clients, scenario)
    failures = [o for o in outcomes if o.result != "ok"]
    killed, back = t0 + events["redis_killed_at_s"], t0 + events["redis_back_at_s"]
    during = [o for o in outcomes if o.start > killed and o.end < back]
    return summarize("redis", outcomes, events, t0=t0, failures=failures, checks={
        "every request 2xx": not failures,
        "requests were served while Redis was down": sum(o.result == "ok" for o in during) > 0,
    })


def phase_postgres(load, clients, postgres, gunicorn, outage_seconds):
    t0 = time.monotonic()
    processes_before = gunicorn.workers()

    def scenario():
        time.sleep(3)
        stopping = time.monotonic()
        say("PostgreSQL: pg_ctl stop -m fast")
        postgres.stop("fast")
        time.sleep(outage_seconds)
        postgres.start()
        back = time.monotonic()
        say(f"PostgreSQL is back after {back - stopping:.1f} s")
        time.sleep(RECOVERY_LIMIT + 5)
        return {"pg_stop_at_s": stopping - t0, "pg_back_at_s": back - t0}

    outcomes, events = load.run(clients, scenario)
    processes_after = gunicorn.workers()
    stop_at, back_at = t0 + events["pg_stop_at_s"], t0 + events["pg_back_at_s"]
    unavailable = [o for o in outcomes if o.result == "unavailable"]
    failures = [o for o in outcomes if o.result not in ("ok", "unavailable")]
    # A 503 is allowed only for a request that overlapped the outage or the recovery allowance after it.
    stray_503 = [o for o in unavailable if o.end < stop_at or o.end > back_at + RECOVERY_LIMIT]
    late = [o for o in outcomes if o.start > back_at + RECOVERY_LIMIT]
    events["last_503_s_after_pg_back"] = max((o.end for o in unavailable), default=back_at) - back_at
    if unavailable:
        events["first_503_at_s"] = min(o.end for o in unavailable) - t0
        events["last_503_at_s"] = max(o.end for o in unavailable) - t0
    # The first request that PostgreSQL's return let through: how long the pool took to reconnect.
    events["first_2xx_after_pg_back_s"] = min((o.end for o in outcomes if o.result == "ok" and o.end > back_at),
                                              default=float("nan")) - back_at
    events["gunicorn_processes"] = {"before": processes_before, "after": processes_after}
    return summarize("postgres", outcomes, events, t0=t0, failures=failures + stray_503, checks={
        "no 500, no other status, no reset, no timeout": not failures,
        f"503s only during the outage and up to {RECOVERY_LIMIT:.0f} s after": not stray_503,
        "the outage was noticed (some 503s)": bool(unavailable),
        f"a 2xx within {FIRST_2XX_LIMIT:.0f} s of PostgreSQL's return":
            events["first_2xx_after_pg_back_s"] <= FIRST_2XX_LIMIT,
        f"every request sent {RECOVERY_LIMIT:.0f} s after the return is 2xx": bool(late)
        and all(o.result == "ok" for o in late),
        "gunicorn not restarted (same master and workers)": processes_before == processes_after,
    })


def phase_gunicorn_worker(load, clients, gunicorn):
    t0 = time.monotonic()
    before = gunicorn.workers()

    def scenario():
        time.sleep(3)
        victim = before[1]
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        say(f"gunicorn worker {victim} killed (SIGKILL)")
        replaced = None
        while time.monotonic() - killed < REPLACE_LIMIT:
            now = gunicorn.workers()
            if victim not in now and len(now) == len(before):
                replaced = time.monotonic()
                break
            time.sleep(0.1)
        time.sleep(8)
        events = {"killed_pid": victim, "killed_at_s": killed - t0}
        if replaced is not None:
            events["replaced_after_s"] = replaced - killed
        return events

    outcomes, events = load.run(clients, scenario)
    after = gunicorn.workers()
    killed_at = t0 + events["killed_at_s"]
    # A request the killed worker had taken may fail, but only by the connection closing.
    in_flight = [o for o in outcomes if o.start <= killed_at <= o.end]
    lost = [o for o in in_flight if o.result in ("reset", "error")]
    failures = [o for o in outcomes if o.result != "ok" and o not in lost]
    late = [o for o in outcomes if o.start > killed_at + AFTER_KILL_LIMIT]
    events["requests_lost_in_flight"] = len(lost)
    events["gunicorn_processes"] = {"before": before, "after": after}
    return summarize("gunicorn-worker", outcomes, events, t0=t0, failures=failures, checks={
        "no 5xx, no other status; only requests in flight at the kill failed": not failures,
        f"the master replaced the worker within {REPLACE_LIMIT:.0f} s": "replaced_after_s" in events,
        "same master, as many workers, the killed one gone":
            after[0] == before[0] and len(after) == len(before) and events["killed_pid"] not in after,
        f"every request sent {AFTER_KILL_LIMIT:.0f} s after the kill is 2xx": bool(late)
        and all(o.result == "ok" for o in late),
    })


def defer_probe(env, code, folder):
    """Queue scripts.chaos_tasks.chaos_probe in the demo company; returns (job id, schema)."""
    script = (
        "from django_tenants.utils import tenant_context\n"
        "from tenants.models import Domain\n"
        "from core.jobs import defer_for_company\n"
        "from scripts.chaos_tasks import chaos_probe\n"
        f"company = Domain.objects.get(domain={HOST!r}).tenant\n"
        "with tenant_context(company):\n"
        f"    job = defer_for_company(chaos_probe, code={code!r}, folder={str(folder)!r}, "
        f"hold_seconds={JOB_HOLD_SECONDS})\n"
        "print(job, company.schema_name)\n"
    )
    run = subprocess.run([str(PYTHON), "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                         stdout=subprocess.PIPE, text=True)
    job_id, schema = run.stdout.split()[-2:]
    return int(job_id), schema


def phase_job_worker(env, postgres, worker, folder):
    t0 = time.monotonic()
    had_ended = worker.ensure_running()
    code = f"CHAOS{secrets.randbelow(10**6):06d}"
    attempts_file, holding = folder / f"{code}.attempts", folder / f"{code}.holding"
    job_id, schema = defer_probe(env, code, folder)
    say(f"job {job_id} (chaos_probe {code}) queued")
    wait_for(holding.exists, "the probe job", 30)
    started = time.monotonic()
    worker.kill()
    killed = time.monotonic()
    say(f"job worker killed (SIGKILL) {killed - started:.1f} s into job {job_id}")
    with psycopg.connect(postgres.url) as conn:
        status_after_kill = conn.execute("SELECT status::text FROM procrastinate_jobs WHERE id = %s",
                                         [job_id]).fetchone()
    time.sleep(1)
    worker.start()
    say("job worker started again")

    def done():
        with psycopg.connect(postgres.url) as conn:
            row = conn.execute("SELECT status::text FROM procrastinate_jobs WHERE id = %s", [job_id]).fetchone()
        return row is None or row[0] in ("succeeded", "failed")

    finished = None
    try:
        wait_for(done, "the retried job", JOB_LIMIT)
        finished = time.monotonic()
    except RuntimeError as exc:
        say(str(exc))
    with psycopg.connect(postgres.url) as conn:
        row = conn.execute("SELECT status::text, attempts FROM procrastinate_jobs WHERE id = %s", [job_id]).fetchone()
        growers = conn.execute(f'SELECT count(*) FROM "{schema}".growers WHERE code = %s', [code]).fetchone()[0]
    attempts = attempts_file.read_text().split() if attempts_file.exists() else []
    events = {
        "job_id": job_id, "killed_s_into_job": killed - started, "worker_had_ended_before": had_ended,
        "status_after_kill": status_after_kill[0] if status_after_kill else None,
        # Succeeded jobs are deleted (PROCRASTINATE_WORKER_DEFAULTS): no row left means it succeeded.
        "final_status": row[0] if row else "succeeded (deleted)",
        "attempts_started": len(attempts), "growers_with_its_code": growers,
    }
    if finished is not None:
        events["done_s_after_kill"] = finished - killed
    return summarize("job-worker", [], events, t0=t0, failures=[], checks={
        "the job was running when the worker died": events["status_after_kill"] == "doing",
        f"it ran again and succeeded within {JOB_LIMIT:.0f} s": finished is not None
        and events["final_status"].startswith("succeeded"),
        "it was started twice (killed, then retried)": len(attempts) == 2,
        "its effect is there exactly once": growers == 1,
    })


def phase_metrics(port, answered):
    """/metrics adds up every worker's numbers, the killed one's too: it counted every answer clients got."""
    answer = request("GET", "/metrics", port)
    counted = 0.0
    for line in answer.body.decode().splitlines():
        if line.startswith("django_http_responses_total_by_status_view_method_total{"):
            counted += float(line.rsplit(" ", 1)[1])
    events = {"status": answer.status, "responses_counted": counted, "responses_clients_got": answered}
    # The harness's own requests before the load (health polls, logins) are counted too.
    return summarize("metrics", [], events, failures=[], checks={
        "/metrics answers loopback": answer.status == 200,
        "every response the clients got was counted, by whichever worker": answered <= counted <= answered + 200,
    })


def summarize(name, outcomes, events, *, failures, checks, t0=None):
    by_result = {}
    for outcome in outcomes:
        by_result[outcome.result] = by_result.get(outcome.result, 0) + 1
    by_kind = {}
    for outcome in outcomes:
        counts = by_kind.setdefault(outcome.kind, {})
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    base = t0 if t0 is not None else min((o.start for o in outcomes), default=0)
    # Per second of the phase (by the time the answer came): [second, 2xx, 503, failed].
    timeline = {}
    for outcome in outcomes:
        row = timeline.setdefault(int(outcome.end - base), [int(outcome.end - base), 0, 0, 0])
        row[1 if outcome.result == "ok" else 2 if outcome.result == "unavailable" else 3] += 1
    return {
        "phase": name,
        "requests": len(outcomes),
        "answered": sum(o.status is not None for o in outcomes),
        "results": by_result,
        "by_kind": by_kind,
        "events": {k: round(v, 2) if isinstance(v, float) else v for k, v in events.items()},
        "checks": checks,
        "passed": all(checks.values()),
        "timeline": [timeline[second] for second in sorted(timeline)],
        "failures_sample": [{**asdict(o), "start": round(o.start - base, 2), "end": round(o.end - base, 2)}
                            for o in failures[:10]],
    }


def print_table(phases):
    print()
    print(f"{'phase':<16} {'requests':>8} {'2xx':>6} {'503':>6} {'failed':>6}  checks")
    for phase in phases:
        results = phase["results"]
        failed = phase["requests"] - results.get("ok", 0) - results.get("unavailable", 0)
        checks = "; ".join(f"{'ok' if good else 'FAILED'}: {name}" for name, good in phase["checks"].items())
        print(f"{phase['phase']:<16} {phase['requests']:>8} {results.get('ok', 0):>6} "
              f"{results.get('unavailable', 0):>6} {failed:>6}  {checks}")
    for phase in phases:
        if phase["events"]:
            events = {k: v for k, v in phase["events"].items() if k != "gunicorn_processes"}
            print(f"  {phase['phase']}: {events}")
    print()


# --- Setup and teardown -------------------------------------------------------------------------------


def app_env(postgres, redis):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fruitpak.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url,
        "ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1",
        # No TLS here; production keeps the secure defaults.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_SSL_REDIRECT": "false",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "3"),
        "LOG_LEVEL": "WARNING",
        # The outage is what is measured, not the throttle: the clients share one token (as make bench).
        "API_THROTTLE_USER": "1000000/second",
        "API_THROTTLE_ANON": "1000000/second",
        # A dead job worker's job is retried within seconds instead of the production minute or so.
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_STALLED_SECONDS": str(JOB_STALLED_SECONDS),
        "JOB_RETRY_STALLED_CRON": "* * * * * */2",
        "EXTRA_TASK_MODULES": "scripts.chaos_tasks",
    }


def manage(env, *args):
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def static_is_stale():
    manifest = STATIC_ROOT / "staticfiles.json"
    if not manifest.exists():
        return True
    sources = [ROOT / "requirements.txt", *(p for p in (ROOT / "static").rglob("*") if p.is_file())]
    return any(p.stat().st_mtime > manifest.stat().st_mtime for p in sources)


def first_ids(port, token, path):
    answer = request("GET", path, port, headers={"Authorization": f"Bearer {token}"})
    # The demo has inactive growers on purpose; intake for them is refused (a 400), which is not a fault.
    return [item["id"] for item in json.loads(answer.body)["items"] if item.get("active", True)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=6, help="concurrent client threads (default 6)")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds PostgreSQL stays down (default 20)")
    parser.add_argument("--batches", type=int, default=2000, help="demo batches to seed (default 2000)")
    parser.add_argument("--var-dir", type=Path, default=ROOT / ".var" / "chaos")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "chaos.json")
    parser.add_argument("--keep", action="store_true", help="keep .var/chaos (data and logs) afterwards")
    args = parser.parse_args(argv)

    var = args.var_dir.resolve()
    if var.exists():
        shutil.rmtree(var)
    var.mkdir(parents=True)
    started = []  # what to stop, last started first

    def cleanup():
        while started:
            started.pop()()
        if not args.keep:
            shutil.rmtree(var / "pg", ignore_errors=True)

    atexit.register(cleanup)
    # Ctrl-C and a plain kill both unwind through `finally`, so nothing is left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    began = time.monotonic()
    try:
        postgres = Postgres(var / "pg")
        redis = Redis(var / "redis")
        say(f"private PostgreSQL on :{postgres.port}, Redis on :{redis.port}")
        postgres.init()
        postgres.start()
        started.append(lambda: postgres.stop("immediate"))
        postgres.create_database()
        redis.start()
        started.append(redis.kill)
        env = app_env(postgres, redis)
        say("migrating and seeding the demo company...")
        manage(env, "migrate_schemas", "--executor=standard", "-v", "0")
        manage(env, "setup_demo", "--batches", str(args.batches), "-v", "0")
        if static_is_stale():
            say("collectstatic...")
            manage(env, "collectstatic", "--noinput", "-v", "0")
        gunicorn = Gunicorn(var, env)
        gunicorn.start()
        started.append(gunicorn.stop)
        worker = JobWorker(var, env)
        worker.start()
        started.append(worker.stop)
        say(f"gunicorn on :{gunicorn.port} with {len(gunicorn.workers()) - 1} workers; setup took "
            f"{time.monotonic() - began:.0f} s")

        token = api_token(gunicorn.port)
        load = Load(port=gunicorn.port, token=token, session=session_cookie(gunicorn.port),
                    growers=first_ids(gunicorn.port, token, "/api/growers/?limit=50&active=true"),
                    packhouses=first_ids(gunicorn.port, token, "/api/packhouses/"))

        phases = []
        say("phase baseline")
        phases.append(phase_baseline(load, args.clients, 4))
        say("phase redis")
        phases.append(phase_redis(load, args.clients, redis))
        say("phase postgres")
        phases.append(phase_postgres(load, args.clients, postgres, gunicorn, args.outage))
        say("phase gunicorn-worker")
        phases.append(phase_gunicorn_worker(load, args.clients, gunicorn))
        say("phase job-worker")
        phases.append(phase_job_worker(env, postgres, worker, var))
        say("phase metrics")
        phases.append(phase_metrics(gunicorn.port, sum(p.get("answered", 0) for p in phases)))
    finally:
        cleanup()

    print_table(phases)
    passed = all(phase["passed"] for phase in phases)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": len(os.sched_getaffinity(0)), "python": platform.python_version()},
        "setup": {"clients": args.clients, "gunicorn_workers": int(env["WEB_CONCURRENCY"]),
                  "outage_s": args.outage, "batches": args.batches, "first_2xx_limit_s": FIRST_2XX_LIMIT,
                  "recovery_limit_s": RECOVERY_LIMIT,
                  "db_pool": {name: env.get(name, default) for name, default in POOL_DEFAULTS.items()}},
        "passed": passed,
        "phases": phases,
        "took_s": round(time.monotonic() - began, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    say(f"{'PASSED' if passed else 'FAILED'}; results in {args.out} ({result['took_s']} s)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
