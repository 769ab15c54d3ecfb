"""gunicorn settings for the production shape (`make serve`, the Dockerfile).

Every value can be overridden from the environment; the defaults are what
bench/ measured on a 2-core machine (docs/PERFORMANCE.md, "Worker class").

    GUNICORN_BIND          127.0.0.1:8000 (the container uses 0.0.0.0:8000)
    WEB_CONCURRENCY        worker processes; default one per core
    GUNICORN_WORKER_CLASS  gthread (default) or sync
    GUNICORN_THREADS       threads per gthread worker (default 4); keep DB_POOL_MAX (4) >= this
    GUNICORN_TIMEOUT       seconds a request may take before its worker is restarted (default 30)
    GUNICORN_ACCESS_LOG    a path, or "-" for stdout; unset: no access log (nginx keeps one)
    FORWARDED_ALLOW_IPS    proxies trusted for X-Forwarded-*; default 127.0.0.1 (nginx on this box)
    GUNICORN_MAX_REQUESTS  restart a worker after this many requests (default 0: never)
    GUNICORN_CONTROL_SOCKET  path of gunicornc's socket, or "off"
    GUNICORN_WSGI_APP      the WSGI callable (default fruitpak.wsgi:application; the bench's twin wraps it)
    PROMETHEUS_MULTIPROC_DIR  where the workers keep their metrics (core/metrics/); default a fresh
                           temporary directory per master. Emptied when the master starts.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def cores():
    """CPUs this process may use: the cgroup/affinity limit when there is one, not the host's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return multiprocessing.cpu_count()


# The bench serves its SQL-only twins beside the app (bench/sqltwin.py); everything else runs the app alone.
wsgi_app = os.environ.get("GUNICORN_WSGI_APP") or "fruitpak.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# One process per core, its threads overlapping the waits: measured against 2 x cores + 1 processes
# (and 2 per core, and 8 threads), it served every scenario as fast or faster, with shorter tails
# (PERFORMANCE.md, "Workers and threads"). More processes than cores only take turns on them.
workers = _int("WEB_CONCURRENCY", cores())
# gthread: a request spends much of its time waiting on PostgreSQL and Redis round trips, and threads
# overlap those waits; the cached growers list served 1.8 x the requests of sync workers (PERFORMANCE.md).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4) if worker_class == "gthread" else 1

# nginx buffers slow clients, so a request that runs this long is stuck, not slow.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than nginx's upstream keepalive_timeout (60 s, nginx.conf), so nginx, not gunicorn, closes an
# idle upstream connection and never reuses one gunicorn is closing. sync workers ignore it.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# The heartbeat file lives in memory when it can: a container's overlay disk can stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "fruitpak")
# gunicornc's socket. Its default ($HOME/.gunicorn/gunicorn.ctl) is one path for every instance on the box,
# so each app server of `make serve` names its own; "off" disables it.
if os.environ.get("GUNICORN_CONTROL_SOCKET") == "off":
    control_socket_disable = True
elif os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
# Workers import the app themselves: each opens its own database pool after the fork.
preload_app = False


# --- Metrics across workers ------------------------------------------------------------------------------
# /metrics must add up every worker's counters, whichever worker answers the scrape: prometheus_client's
# multiprocess mode keeps each process's values in files under PROMETHEUS_MULTIPROC_DIR. It is chosen
# when prometheus_client is first imported, so it is set here, in the master, before any worker imports
# the app (preload_app is off). Files of an earlier run would add their counts to ours, so the master
# starts with an empty directory; a directory of its own by default, so two app servers on one box
# (make serve) never share one.


_made_metrics_dir = None


def _metrics_dir():
    global _made_metrics_dir
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not given:
        _made_metrics_dir = tempfile.mkdtemp(prefix="fruitpak-metrics-")
        return _made_metrics_dir
    folder = Path(given)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return str(folder)


os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir()


def child_exit(server, worker):
    """A worker that ended (or was killed): its gauges of live processes go; its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
