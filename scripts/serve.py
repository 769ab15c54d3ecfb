#!/usr/bin/env python
"""The production shape on this machine: several gunicorn app servers behind nginx, and the job worker.

    serve.py run    [options]   start, stay in the foreground, stop everything on Ctrl-C (`make serve`)
    serve.py start  [options]   start in the background; returns once nginx answers /health
    serve.py stop   [--var-dir] stop what `start` started (safe when nothing runs)
    serve.py status [--var-dir]

Options: --listen 127.0.0.1:8080 (nginx), --app-ports 8101,8102 (one gunicorn each),
--var-dir .var/serve (pid files, logs, nginx's temp files), --no-collectstatic.

The apps run with the production settings (fruitpak.settings.prod) and gunicorn.conf.py, and so
does one job worker (`manage.py procrastinate worker`, its log in <var-dir>/logs/worker.log); nginx
with nginx.conf, rendered into <var-dir>/nginx.conf. Values that production takes from its
environment get local defaults here when they are not set:

- DATABASE_URL, REDIS_URL: from the environment (the Makefile loads .var/services.env);
- SECRET_KEY: made once and kept in <var-dir>/secret_key, so sessions survive a restart;
- ALLOWED_HOSTS=.localhost,localhost,127.0.0.1;
- SESSION_COOKIE_SECURE=false, CSRF_COOKIE_SECURE=false, SECURE_HSTS_SECONDS=0,
  SECURE_SSL_REDIRECT=false: there is no TLS on this machine, a browser never sends a secure
  cookie over plain HTTP, and a redirect to https:// would lead nowhere. Production keeps
  the secure defaults (docs/PERFORMANCE.md, "Running the production shape").

WEB_CONCURRENCY (workers per app server) defaults to gunicorn.conf.py's one per core, shared
out among the app servers (at least one each), so the box runs about the same number of
workers with one app server or three.
"""

import argparse
import math
import os
import pwd
import secrets
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
STATIC_ROOT = ROOT / "staticfiles"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def say(message):
    print(f"serve: {message}", file=sys.stderr, flush=True)


def cores():
    return len(os.sched_getaffinity(0))


class Layout:
    """Where one shape keeps its pid files, logs and nginx's temp files."""

    def __init__(self, var_dir):
        self.var = Path(var_dir).resolve()
        self.logs = self.var / "logs"
        self.nginx_temp = self.var / "nginx-temp"
        self.nginx_conf = self.var / "nginx.conf"
        self.nginx_pid = self.var / "nginx.pid"
        self.worker_pid = self.var / "worker.pid"

    def gunicorn_pid(self, port):
        return self.var / f"gunicorn-{port}.pid"

    def gunicorn_pids(self):
        return sorted(self.var.glob("gunicorn-*.pid"))


def app_environment(layout, app_ports):
    env = dict(os.environ)
    # The bench serves its own profile (fruitpak.settings.bench); everything else, production.
    env["DJANGO_SETTINGS_MODULE"] = env.get("SERVE_SETTINGS_MODULE") or "fruitpak.settings.prod"
    if not env.get("DATABASE_URL"):
        sys.exit("serve: DATABASE_URL is not set (the Makefile loads it from .var/services.env).")
    key_file = layout.var / "secret_key"
    if not env.get("SECRET_KEY"):
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        env["SECRET_KEY"] = key_file.read_text().strip()
    env.setdefault("ALLOWED_HOSTS", ".localhost,localhost,127.0.0.1")
    # No TLS on this machine (see the module docstring); production keeps these on.
    env.setdefault("SESSION_COOKIE_SECURE", "false")
    env.setdefault("CSRF_COOKIE_SECURE", "false")
    env.setdefault("SECURE_HSTS_SECONDS", "0")
    env.setdefault("SECURE_SSL_REDIRECT", "false")
    env.setdefault("WEB_CONCURRENCY", str(max(1, math.ceil(cores() / len(app_ports)))))
    env.setdefault("FORWARDED_ALLOW_IPS", "127.0.0.1")
    return env


def render_nginx(layout, listen, app_ports):
    values = {
        "NGINX_WORKER_PROCESSES": os.environ.get("NGINX_WORKER_PROCESSES", "auto"),
        "NGINX_PID_FILE": str(layout.nginx_pid),
        "NGINX_ERROR_LOG": str(layout.logs / "nginx-error.log"),
        "NGINX_ACCESS_LOG": (
            f"{layout.logs / 'nginx-access.log'} timed buffer=64k flush=1s"
            if os.environ.get("NGINX_ACCESS_LOG", "on") != "off" else "off"
        ),
        "NGINX_TEMP_DIR": str(layout.nginx_temp),
        "NGINX_LISTEN": listen,
        "NGINX_STATIC_ROOT": str(STATIC_ROOT),
        "NGINX_UPSTREAM_SERVERS": "\n".join(
            f"        server 127.0.0.1:{port} max_fails=0;" for port in app_ports
        ),
    }
    template = string.Template((ROOT / "nginx.conf").read_text())
    text = template.safe_substitute(values)
    missing = [name for name in values if "${" + name + "}" in text]
    if missing:
        sys.exit(f"serve: nginx.conf placeholders left unfilled: {', '.join(missing)}")
    layout.nginx_conf.write_text(text)


def prepare_dirs(layout):
    for folder in (layout.var, layout.logs, layout.nginx_temp):
        folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # nginx started by root runs its workers as www-data; they write the temp files.
        try:
            worker = pwd.getpwnam("www-data")
        except KeyError:
            return
        os.chown(layout.nginx_temp, worker.pw_uid, worker.pw_gid)


def collectstatic(env):
    say("collectstatic (hashed and compressed files for nginx)...")
    subprocess.run(
        [str(PYTHON), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )


def static_is_stale():
    """collectstatic compresses every file (about a minute); skip it when static/ and the pins are older."""
    manifest = STATIC_ROOT / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [ROOT / "requirements.txt", *(path for path in (ROOT / "static").rglob("*") if path.is_file())]
    return any(path.stat().st_mtime > built for path in sources)


def read_pid(pid_file):
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        # The worker is this process's child under `run`: once it ended, it stays a zombie until reaped.
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def get(url, host="localhost", timeout=2.0):
    request = urllib.request.Request(url, headers={"Host": host})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


def wait_until_up(url, what, deadline_s=60.0, alive=lambda: True):
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if not alive():
            return False
        try:
            if get(url) == 200:
                return True
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    say(f"{what} did not answer {url} within {deadline_s:.0f} s")
    return False


def start(args):
    layout = Layout(args.var_dir)
    app_ports = [int(port) for port in args.app_ports.split(",")]
    if any(read_pid(pid_file) for pid_file in [layout.nginx_pid, layout.worker_pid, *layout.gunicorn_pids()]):
        say(f"already running from {layout.var}; stopping it first")
        stop(args)
    prepare_dirs(layout)
    env = app_environment(layout, app_ports)
    if not args.no_collectstatic and static_is_stale():
        collectstatic(env)
    if not (STATIC_ROOT / "staticfiles.json").exists():
        sys.exit("serve: staticfiles/ has no manifest; run without --no-collectstatic once.")

    say(f"{len(app_ports)} gunicorn app servers on {', '.join(map(str, app_ports))}, "
        f"{env['WEB_CONCURRENCY']} {env.get('GUNICORN_WORKER_CLASS', 'gthread')} workers each")
    for port in app_ports:
        app_env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_PROC_NAME=f"fruitpak-{port}",
                       GUNICORN_CONTROL_SOCKET=str(layout.var / f"gunicorn-{port}.ctl"))
        log = open(layout.logs / f"gunicorn-{port}.log", "ab")
        process = subprocess.Popen(
            [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "--pid", str(layout.gunicorn_pid(port))],
            cwd=ROOT, env=app_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        if not wait_until_up(f"http://127.0.0.1:{port}/health", f"gunicorn :{port}", alive=process_alive(process)):
            say(f"gunicorn :{port} failed; its log: {layout.logs / f'gunicorn-{port}.log'}")
            stop(args)
            sys.exit(1)

    say("the job worker")
    log = open(layout.logs / "worker.log", "ab")
    worker = subprocess.Popen(
        [str(PYTHON), "manage.py", "procrastinate", "worker"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    layout.worker_pid.write_text(str(worker.pid))

    render_nginx(layout, args.listen, app_ports)
    nginx = [NGINX, "-c", str(layout.nginx_conf), "-p", str(layout.var), "-e", str(layout.logs / "nginx-error.log")]
    check = subprocess.run([*nginx, "-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        say(f"nginx refused {layout.nginx_conf}:\n{check.stderr}")
        stop(args)
        sys.exit(1)
    subprocess.run(nginx, check=True)
    if not wait_until_up(f"http://{args.listen}/health", "nginx"):
        stop(args)
        sys.exit(1)
    say(f"serving on http://{args.listen} (logs in {layout.logs})")


def process_alive(process):
    return lambda: process.poll() is None


def stop_pid(pid_file, what, signal_number=signal.SIGTERM, deadline_s=30.0):
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal_number)
    started = time.monotonic()
    while time.monotonic() - started < deadline_s and read_pid(pid_file) == pid:
        time.sleep(0.1)
    if read_pid(pid_file) == pid:
        say(f"{what} (pid {pid}) still running after {deadline_s:.0f} s; sending SIGKILL")
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    say(f"stopped {what} (pid {pid})")


def stop(args):
    layout = Layout(args.var_dir)
    # nginx first, so no request is sent to an app server that is going away. SIGQUIT: graceful.
    stop_pid(layout.nginx_pid, "nginx", signal.SIGQUIT)
    for pid_file in layout.gunicorn_pids():
        stop_pid(pid_file, pid_file.stem)
    stop_pid(layout.worker_pid, "the job worker")


def status(args):
    layout = Layout(args.var_dir)
    running = False
    for pid_file in [layout.nginx_pid, *layout.gunicorn_pids(), layout.worker_pid]:
        pid = read_pid(pid_file)
        running |= pid is not None
        print(f"{pid_file.stem}: {f'running, pid {pid}' if pid else 'stopped'}")
    return 0 if running else 3


def run(args):
    start(args)
    say("Ctrl-C stops nginx, the app servers and the job worker")

    def finish(signal_number, frame):
        stop(args)
        sys.exit(0)

    signal.signal(signal.SIGINT, finish)
    signal.signal(signal.SIGTERM, finish)
    layout = Layout(args.var_dir)
    while True:
        time.sleep(2)
        servers = [layout.nginx_pid, layout.worker_pid, *layout.gunicorn_pids()]
        if not all(read_pid(pid_file) for pid_file in servers):
            say("a server stopped; stopping the rest")
            stop(args)
            sys.exit(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "start", "stop", "status"])
    parser.add_argument("--listen", default=os.environ.get("SERVE_LISTEN", "127.0.0.1:8080"))
    parser.add_argument("--app-ports", default=os.environ.get("SERVE_APP_PORTS", "8101,8102"))
    parser.add_argument("--var-dir", default=str(ROOT / ".var" / "serve"))
    parser.add_argument("--no-collectstatic", action="store_true")
    args = parser.parse_args(argv)
    return {"run": run, "start": start, "stop": stop, "status": status}[args.command](args) or 0


if __name__ == "__main__":
    sys.exit(main())
