"""What the bench/ scripts share: the load tool, small HTTP calls, the machine's description, the company to use."""

import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SERVE = ROOT / "scripts" / "serve.py"


def say(message):
    print(message, file=sys.stderr, flush=True)


def same_server(url, path):
    """The URL of another database (or Redis db number) on the same server: .../fruitpak -> .../fruitpak_bench."""
    base, _, _ = url.rstrip("/").rpartition("/")
    return f"{base}/{path}"


def ensure_company(schema, *, name, domain, admin_email, admin_password):
    """Migrate (nothing to do when up to date), then the public host and the company `schema`, made when missing.

    Needs Django set up. Returns the Company.
    """
    from django.conf import settings
    from django.core.management import call_command
    from django_tenants.utils import get_public_schema_name, schema_context

    from tenants.models import Company
    from tenants.services import NewCompany, create_company, ensure_public_tenant

    say("Migrating (nothing to do when up to date)...")
    call_command("migrate_schemas", executor="standard", verbosity=0)
    with schema_context(get_public_schema_name()):
        ensure_public_tenant(settings.PUBLIC_DOMAIN)
        company = Company.objects.filter(schema_name=schema).first()
        if company is None:
            say(f"Creating the company '{schema}'...")
            company = create_company(NewCompany(
                schema=schema, name=name, domain=domain, admin_email=admin_email, admin_password=admin_password,
            ))
    return company


# --- HTTP, for logging in and capturing bodies -------------------------------------------------------------


class Site:
    """Plain requests to one host through nginx, with the cookies it sets."""

    def __init__(self, listen, host):
        self.address, port = listen.rsplit(":", 1)
        self.port = int(port)
        self.host = host
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(self.address, self.port, timeout=120)
        all_headers = {"Host": self.host, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            return response.status, response.headers, content
        finally:
            connection.close()

    def api_token(self, email, password):
        status, _, content = self.request(
            "POST", "/api/auth/login", json.dumps({"email": email, "password": password}),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            raise RuntimeError(f"API login of {email} on {self.host}: HTTP {status} {content[:200]!r}")
        return json.loads(content)["access_token"]

    def session_cookie(self, email, password):
        """Log in through the login page, CSRF token and all; returns the Cookie header value."""
        self.cookies = {}
        status, _, content = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or token is None:
            raise RuntimeError(f"login page on {self.host}: HTTP {status}, CSRF token found: {token is not None}")
        form = urlencode({"username": email, "password": password, "csrfmiddlewaretoken": token.group(1).decode()})
        status, headers, content = self.request(
            "POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {email} on {self.host}: HTTP {status}, no session cookie")
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


# --- The load tool --------------------------------------------------------------------------------------------


@dataclass
class Load:
    """One ab run's numbers. Latencies in ms; rate in requests per second."""

    requests: int
    concurrency: int
    rate: float
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    failed: int
    non_2xx: int
    seconds: float
    command: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self):
        return asdict(self)


def ab(url, requests, concurrency, host, headers=(), cookie=None, post_file=None, content_type=None,
       variable_length=True):
    """ApacheBench: `ab -n requests -c concurrency` plus headers; percentiles from its -e table."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as table:
        command = ["ab", "-n", str(requests), "-c", str(concurrency), "-q", "-e", table.name, "-H", f"Host: {host}"]
        if variable_length:
            # Dynamic bodies differ in length (dates, counts); without -l ab calls that a failure.
            command.append("-l")
        for header in headers:
            command += ["-H", header]
        if cookie:
            command += ["-C", cookie]
        if post_file:
            command += ["-p", str(post_file), "-T", content_type or "application/json"]
        command.append(url)
        started = time.monotonic()
        run = subprocess.run(command, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if run.returncode != 0:
            raise RuntimeError(f"ab failed ({run.returncode}): {run.stderr.strip() or run.stdout[-500:]}")
        percentiles = {}
        for line in Path(table.name).read_text().splitlines()[1:]:
            percent, ms = line.split(",")
            percentiles[int(float(percent))] = float(ms)
    text = run.stdout

    def number(pattern, default=None):
        match = re.search(pattern, text)
        if match is None:
            if default is None:
                raise RuntimeError(f"ab output without {pattern!r}:\n{text}")
            return default
        return float(match.group(1))

    # ab's CSV (-e) is unreliable for long requests: 10 requests of 4 to 6 s gave a p95 of 0.26 ms and a max
    # of 6,151 ms. When its percentiles are impossible (not rising), the table ab prints (whole ms) is used.
    ranked = [percentiles[key] for key in sorted(percentiles)]
    if any(later < earlier for earlier, later in zip(ranked, ranked[1:], strict=False)):
        printed = {int(p): float(ms) for p, ms in re.findall(r"^\s+(\d+)%\s+(\d+)", text, re.MULTILINE)}
        if printed:
            percentiles.update(printed)

    shown = " ".join(part if " " not in part else repr(part) for part in command)
    shown = re.sub(r"Bearer [\w.-]+", "Bearer <token>", shown)
    shown = re.sub(r"sessionid=[^;' ]+", "sessionid=<session>", shown)
    return Load(
        requests=int(number(r"Complete requests:\s+(\d+)")),
        concurrency=concurrency,
        rate=number(r"Requests per second:\s+([\d.]+)"),
        mean_ms=number(r"Time per request:\s+([\d.]+) \[ms\] \(mean\)"),
        p50_ms=percentiles[50], p95_ms=percentiles[95], p99_ms=percentiles[99], max_ms=percentiles[100],
        failed=int(number(r"Failed requests:\s+(\d+)")),
        non_2xx=int(number(r"Non-2xx responses:\s+(\d+)", default=0)),
        seconds=round(seconds, 3),
        command=shown,
    )


# --- The servers ----------------------------------------------------------------------------------------------


def serve(command, var_dir, listen, app_ports, env):
    subprocess.run(
        [str(PYTHON), str(SERVE), command, "--var-dir", str(var_dir), "--listen", listen,
         "--app-ports", ",".join(map(str, app_ports))],
        cwd=ROOT, env=env, check=True,
    )


# --- The machine ----------------------------------------------------------------------------------------------


def _first_line(command):
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (run.stdout or run.stderr).strip().splitlines()[0] if (run.stdout or run.stderr).strip() else None


def machine(database_url, redis_url):
    """Cores, memory, versions and the settings that matter, for the report."""
    import psycopg
    import redis

    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    described = {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        # Other work on the box skews everything; the ratios to the baseline (same run, interleaved) less so.
        "load_average_1_5_15": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "nginx": _first_line(["nginx", "-v"]),
        "ab": _first_line(["ab", "-V"]),
        "gunicorn": _first_line([str(ROOT / ".venv" / "bin" / "gunicorn"), "--version"]),
    }
    with psycopg.connect(database_url) as connection:
        described["postgresql"] = connection.execute("SHOW server_version").fetchone()[0]
        described["postgresql_settings"] = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_connections",
                         "synchronous_commit", "jit")
        }
    client = redis.Redis.from_url(redis_url)
    info = client.info("server")
    described["redis"] = info.get("redis_version")
    described["redis_maxmemory_policy"] = client.config_get("maxmemory-policy").get("maxmemory-policy")
    return described


def which_or_exit(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: `make bench` installs them from Debian's packages")
