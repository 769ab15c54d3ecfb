"""scripts/supervise.py, on real processes: small Python commands stand in for gunicorn and the worker."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from scripts import supervise

SCRIPT = Path(supervise.__file__)

# A server: notes its start, notes each SIGTERM, then ends (or, told to, keeps running).
SERVER = textwrap.dedent("""
    import signal, sys, time
    name, ignore = sys.argv[1], sys.argv[2] == "ignore"
    def on_term(signal_number, frame):
        with open(name, "a") as out:
            out.write("TERM\\n")
        if not ignore:
            sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, lambda *_: open(name, "a").write("INT\\n"))
    open(name, "a").write("up\\n")
    while True:
        time.sleep(0.05)
""")


def server(tmp_path, name, ignore=False):
    return ["--", sys.executable, "-c", SERVER, str(tmp_path / name), "ignore" if ignore else "stop"]


def start(tmp_path, *commands, grace=10):
    """supervise.py in a process group of its own, as a terminal's foreground job is."""
    return subprocess.Popen([sys.executable, str(SCRIPT), "--grace", str(grace), *commands], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def ctrl_c(process, signal_number=signal.SIGINT):
    """What the terminal does: the signal goes to the whole foreground process group."""
    os.killpg(process.pid, signal_number)


def wait_for(path, text, deadline_s=10):
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path.name} never said {text!r}")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_every_command_with_one_sigterm_each(tmp_path, signal_number):
    process = start(tmp_path, *server(tmp_path, "web"), *server(tmp_path, "worker"))
    for name in ("web", "worker"):
        wait_for(tmp_path / name, "up")

    ctrl_c(process, signal_number)

    assert process.wait(timeout=20) == 0
    for name in ("web", "worker"):
        assert (tmp_path / name).read_text() == "up\nTERM\n"


def test_when_one_command_ends_the_others_are_stopped_and_its_status_is_returned(tmp_path):
    process = start(tmp_path, "--", sys.executable, "-c", "import time, sys; time.sleep(0.5); sys.exit(3)",
                    *server(tmp_path, "worker"))

    assert process.wait(timeout=20) == 3
    assert (tmp_path / "worker").read_text() == "up\nTERM\n"
    assert "ended with status 3; stopping the rest" in process.stderr.read()


def test_a_command_that_ends_with_status_0_still_counts_as_a_failure(tmp_path):
    process = start(tmp_path, "--", sys.executable, "-c", "pass", *server(tmp_path, "worker"))

    assert process.wait(timeout=20) == 1


def test_a_command_deaf_to_sigterm_is_killed_after_the_grace_period(tmp_path):
    process = start(tmp_path, *server(tmp_path, "stubborn", ignore=True), grace=0.5)
    wait_for(tmp_path / "stubborn", "up")

    ctrl_c(process)

    assert process.wait(timeout=20) == 0
    assert (tmp_path / "stubborn").read_text() == "up\nTERM\n"
    assert "still running after" in process.stderr.read()


@pytest.mark.parametrize(("words", "message"), [
    ([], "the commands come after --"),
    (["gunicorn"], "the commands come after --"),
    (["--", "gunicorn", "--"], "an empty command"),
    (["--", "--", "worker"], "an empty command"),
])
def test_commands_are_split_on_double_dashes_or_refused(words, message):
    with pytest.raises(ValueError, match=message):
        supervise.split_commands(words)


def test_split_commands():
    assert supervise.split_commands(["--", "gunicorn", "-b", "x", "--", "worker"]) == [["gunicorn", "-b", "x"],
                                                                                       ["worker"]]
