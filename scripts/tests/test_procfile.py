"""`make run`'s Procfile under honcho, on real processes: gunicorn and the job worker start together and stop
together, on Ctrl-C or when either one ends."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
HONCHO = ROOT / ".venv" / "bin" / "honcho"
STARTED = re.compile(r"(web|worker)\.1 started \(pid=(\d+)\)")

pytestmark = pytest.mark.django_db


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url_for_tests():
    """DATABASE_URL naming the test database, which has the job queue's tables."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


@pytest.fixture
def honcho(tmp_path):
    """`make run`'s last step as the Makefile runs it, its output in a file; stopped at the end whatever happens."""
    port = free_port()
    log = (tmp_path / "honcho.log").open("w+")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="fruitpak.settings.dev", BIND=f"127.0.0.1:{port}",
               DATABASE_URL=database_url_for_tests(), REDIS_URL="")
    process = subprocess.Popen([str(HONCHO), "start", "-f", "Procfile", "--no-colour"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield process, port, log
    # honcho starts each command in a session of its own: a failed test must not leave them running.
    for pid in [process.pid, *(started_pids(log) or {}).values()]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def started_pids(log):
    log.seek(0)
    pids = {name: int(pid) for name, pid in STARTED.findall(log.read())}
    return pids if len(pids) == 2 else None


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child honcho has not reaped yet is a zombie: gone for our purpose.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_ctrl_c_stops_the_app_and_the_worker(honcho):
    process, port, log = honcho
    pids = wait_for(lambda: started_pids(log))
    wait_for(lambda: health(port))
    assert alive(pids["worker"])

    process.send_signal(signal.SIGINT)

    process.wait(timeout=30)
    assert not alive(pids["web"]) and not alive(pids["worker"])


def test_the_app_stops_when_the_worker_ends(honcho):
    process, port, log = honcho
    pids = wait_for(lambda: started_pids(log))
    wait_for(lambda: health(port))

    os.kill(pids["worker"], signal.SIGTERM)

    process.wait(timeout=30)
    assert not alive(pids["web"])
    assert not health(port)
