#!/usr/bin/env python
"""Find or start PostgreSQL and Redis for `make run` and `make test`.

    services.py up   [--embedded] [--var-dir .var] [--env-file FILE]
    services.py down [--var-dir .var]

`up` decides each service in this order, and writes the result as
DATABASE_URL=... and REDIS_URL=... lines to the env file (default
<var-dir>/services.env), which the Makefile sources:

1. DATABASE_URL / REDIS_URL, when set in the environment, win.
2. Otherwise the server on localhost (127.0.0.1:5432, 127.0.0.1:6379) if it
   answers.
3. Otherwise a private server under <var-dir>: PostgreSQL from the `pgserver`
   wheel, Redis from `redis-server` if the machine has it. Without any Redis
   the app runs uncached (REDIS_URL is left empty) and says so.

--embedded (or EMBEDDED=1) skips step 2, so the private servers are used even
when localhost has its own. `down` stops the private servers.
"""

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

DB_NAME = os.environ.get("FRUITPAK_DB_NAME", "fruitpak")
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/{db}"
LOCAL_REDIS = ("127.0.0.1", 6379)


def say(message):
    print(f"services: {message}", file=sys.stderr)


def postgres_answers(url):
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def ensure_database(admin_url, name):
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"created database {name}")


def import_pgserver():
    with warnings.catch_warnings():
        # platformdirs complains when XDG_RUNTIME_DIR is unset (root shells, CI).
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver._commands
    return pgserver


def start_private_postgres(var_dir: Path):
    pgserver = import_pgserver()

    pgdata = var_dir / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None leaves the server running after this script exits;
    # `services.py down` stops it.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri("postgres"), server.get_uri(DB_NAME)


def stop_private_postgres(var_dir: Path):
    pgdata = var_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return
    bin_path = import_pgserver()._commands.POSTGRES_BIN_PATH
    pg_ctl = [str(bin_path / "pg_ctl"), "-D", str(pgdata), "stop", "-m", "fast"]
    if os.geteuid() == 0:
        # pgserver runs the server as its own 'pgserver' user when we are root.
        pg_ctl = ["su", "pgserver", "-s", "/bin/sh", "-c", shlex.join(pg_ctl)]
    subprocess.run(pg_ctl, check=False, stdout=subprocess.DEVNULL)
    say("stopped the private PostgreSQL")


def redis_answers(host=None, port=None, unix_socket=None):
    try:
        if unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(1)
            sock.connect(str(unix_socket))
        else:
            sock = socket.create_connection((host, port), timeout=1)
        with sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_private_redis(var_dir: Path):
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    folder = var_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    sock = folder / "redis.sock"
    if not redis_answers(unix_socket=sock):
        subprocess.run([
            binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
            "--daemonize", "yes", "--pidfile", str(folder / "redis.pid"),
            "--dir", str(folder), "--save", "", "--appendonly", "no",
            "--logfile", str(folder / "redis.log"),
        ], check=True)
        for _ in range(50):
            if redis_answers(unix_socket=sock):
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"services: the private Redis did not start; see {folder / 'redis.log'}")
    return f"unix://{sock}?db=0"


def stop_private_redis(var_dir: Path):
    pidfile = var_dir / "redis" / "redis.pid"
    if not pidfile.exists():
        return
    try:
        os.kill(int(pidfile.read_text().strip()), 15)
        say("stopped the private Redis")
    except (ValueError, ProcessLookupError):
        pass
    pidfile.unlink(missing_ok=True)


def choose_database(var_dir: Path, embedded: bool):
    if os.environ.get("DATABASE_URL"):
        say("PostgreSQL: DATABASE_URL from the environment")
        return os.environ["DATABASE_URL"]
    if not embedded and postgres_answers(LOCAL_PG.format(db="postgres")):
        ensure_database(LOCAL_PG.format(db="postgres"), DB_NAME)
        say("PostgreSQL: the server on 127.0.0.1:5432")
        return LOCAL_PG.format(db=DB_NAME)
    admin_url, url = start_private_postgres(var_dir)
    ensure_database(admin_url, DB_NAME)
    say(f"PostgreSQL: private server in {var_dir / 'pg'}")
    return url


def choose_redis(var_dir: Path, embedded: bool):
    if "REDIS_URL" in os.environ:
        say("Redis: REDIS_URL from the environment" if os.environ["REDIS_URL"] else "Redis: off (REDIS_URL is empty)")
        return os.environ["REDIS_URL"]
    if not embedded and redis_answers(*LOCAL_REDIS):
        say("Redis: the server on 127.0.0.1:6379")
        return "redis://127.0.0.1:6379/0"
    url = start_private_redis(var_dir)
    if url:
        say(f"Redis: private server in {var_dir / 'redis'}")
        return url
    say("Redis: none found and no redis-server to start; the app runs UNCACHED")
    return ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--embedded", action="store_true", default=os.environ.get("EMBEDDED") == "1",
                        help="use private servers even when localhost has its own")
    parser.add_argument("--var-dir", type=Path, default=Path(".var"))
    parser.add_argument("--env-file", type=Path)
    args = parser.parse_args(argv)
    var_dir = args.var_dir.resolve()

    if args.action == "down":
        stop_private_postgres(var_dir)
        stop_private_redis(var_dir)
        return

    var_dir.mkdir(parents=True, exist_ok=True)
    lines = {
        "DATABASE_URL": choose_database(var_dir, args.embedded),
        "REDIS_URL": choose_redis(var_dir, args.embedded),
    }
    env_file = args.env_file or var_dir / "services.env"
    env_file.write_text("".join(f"{key}={shlex.quote(value)}\n" for key, value in lines.items()))
    say(f"wrote {env_file}")


if __name__ == "__main__":
    main()
