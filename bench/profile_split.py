"""Where a request's milliseconds go in the app servers: a py-spy profile, split into the parts of the request.

bench/web.py runs one more load of a scenario while py-spy samples every gunicorn worker (`--subprocesses`,
`--idle` so that a thread waiting for PostgreSQL is seen, `--nonblocking` so the workers are never paused). Each
sample is a thread's stack. A stack that is not inside a request (a worker waiting for work) is left out; the
others are put in one part by their frames:

- "SQL wait": any frame in psycopg (the driver sending, waiting, reading rows);
- else the innermost frame that belongs to a part: "serialization" (DRF serializers and fields, the apps'
  api/serializers.py), "rendering" (renderers, templates, JSON encoding), "filtering and pagination"
  (django-filter, the apps' filters.py, pagination), "auth and permissions" (authentication, permissions,
  throttles, sessions, accounts/), "tenant and middleware" (django-tenants, middleware, the handler);
  "view and other" (the view's own code and services, with the ORM and cache calls they make).

The ORM belongs to no part on purpose: building a query counts where it is built (a page's count query under
pagination, a lazy relation under serialization). Milliseconds per request = samples / rate / requests: wall-clock
time of a worker thread per request, which for everything but SQL wait is time on the CPU (two clients on two
cores do not wait for the GIL much).
"""

import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

PY_SPY = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
RATE = 250
SQL = "SQL wait"
OTHER = "view and other"
PARTS = [
    ("serialization", re.compile(r"rest_framework/(serializers|fields|relations)\.py|/api/serializers\.py")),
    ("rendering", re.compile(r"rest_framework/renderers\.py|django/template/|/templatetags/|json/encoder\.py"
                             r"|core/numbers\.py|django/shortcuts\.py|babel/")),
    ("filtering and pagination", re.compile(r"django_filters/|/filters\.py|pagination")),
    ("auth and permissions", re.compile(r"rest_framework/(authentication|permissions|throttling)\.py"
                                        r"|django/contrib/(auth|sessions)/|accounts/|/permissions\.py|throttl")),
    ("tenant and middleware", re.compile(r"django_tenants/|middleware|django/core/handlers/|whitenoise/"
                                         r"|core/metrics")),
    # The view's own code and what it calls that belongs to no part above (the ORM, the cache client).
    (OTHER, re.compile(r"/views\.py|django/views/|rest_framework/(generics|mixins|viewsets)\.py|/services\.py")),
]
ORDER = [SQL, *[name for name, _ in PARTS]]
# A frame of these is inside a request; a worker's thread waiting for one is not.
IN_REQUEST = re.compile(r"django/core/handlers/wsgi\.py")
FRAME_FILE = re.compile(r"\(([^()]*?):\d+\)$")


def part_of(frames):
    files = [match.group(1) if (match := FRAME_FILE.search(frame)) else frame for frame in frames]
    if any("psycopg" in name for name in files):
        return SQL
    for name in reversed(files):
        for part, pattern in PARTS:
            if pattern.search(name):
                return part
    return OTHER


def split(raw_text):
    """Samples per part from py-spy's raw (collapsed) output; stacks outside a request are not counted."""
    samples = Counter()
    for line in raw_text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any(IN_REQUEST.search(frame) for frame in frames):
            continue
        samples[part_of(frames)] += int(count)
    return samples


class Profile:
    """py-spy on every worker of the given gunicorn masters while a load runs: `with Profile(pids) as p: ...`."""

    def __init__(self, master_pids, output_dir):
        self.master_pids = master_pids
        self.output_dir = Path(output_dir)
        self.processes = []
        self.outputs = []

    def __enter__(self):
        for pid in self.master_pids:
            output = self.output_dir / f"py-spy-{pid}-{time.monotonic_ns()}.txt"
            self.outputs.append(output)
            self.processes.append(subprocess.Popen(
                [str(PY_SPY), "record", "--pid", str(pid), "--subprocesses", "--idle", "--nonblocking",
                 "--rate", str(RATE), "--format", "raw", "--output", str(output)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # py-spy attaches to the workers before the load starts.
        time.sleep(1.0)
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def milliseconds_per_request(self, requests):
        samples = Counter()
        for output in self.outputs:
            if output.is_file():
                samples.update(split(output.read_text()))
                os.unlink(output)
        if not requests or not samples:
            return None
        per_request = {part: round(samples[part] * 1000 / RATE / requests, 2) for part in ORDER}
        per_request["total"] = round(sum(samples.values()) * 1000 / RATE / requests, 2)
        return per_request


def table(results):
    rows = [result for result in results if result.get("profile")]
    if not rows:
        return ""
    head = f"{'scenario':<46} " + " ".join(f"{part[:12]:>12}" for part in ORDER) + f" {'total':>8}"
    lines = ["ms per request in the app servers, by part (py-spy; bench/profile_split.py):", head, "-" * len(head)]
    for result in rows:
        profile = result["profile"]
        lines.append(f"{result['title']:<46} " + " ".join(f"{profile[part]:>12.2f}" for part in ORDER)
                     + f" {profile['total']:>8.2f}")
    return "\n".join(lines)
