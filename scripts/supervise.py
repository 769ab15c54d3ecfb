#!/usr/bin/env python
"""Run several long-lived commands as one: `make run`'s gunicorn and its job worker.

    supervise.py [--grace SECONDS] -- COMMAND ARGS... -- COMMAND ARGS...

Each command runs in a session of its own, so a Ctrl-C in the terminal reaches
this script only, and the commands get exactly one SIGTERM from it (a second
signal would turn gunicorn's and procrastinate's graceful stop into a hurried
one). SIGINT or SIGTERM stops every command; so does one command ending on
its own, since half of the pair is no use. A command still running --grace
seconds after its SIGTERM (default 30) is killed.

The exit status is 0 after a stop asked for by a signal; otherwise it is that
of the command that ended (1 if it said 0: these commands are not meant to end).
"""

import argparse
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.2


def say(message):
    print(f"supervise: {message}", file=sys.stderr, flush=True)


def split_commands(words):
    """['--', 'a', '1', '--', 'b'] -> [['a', '1'], ['b']]."""
    if not words or words[0] != "--":
        raise ValueError("the commands come after --, each one after its own --")
    commands = []
    for word in words:
        if word == "--":
            commands.append([])
        else:
            commands[-1].append(word)
    if not all(commands):
        raise ValueError("an empty command (two -- in a row, or -- at the end)")
    return commands


def exit_status(returncode):
    if returncode < 0:  # ended by a signal, as a shell reports it
        return 128 - returncode
    return returncode or 1


def stop(processes, grace):
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{process.args[0]} (pid {process.pid}) still running after {grace:.0f} s; killing it")
            process.kill()
            process.wait()


def supervise(commands, grace):
    asked = []

    def ask_to_stop(signal_number, frame):
        asked.append(signal_number)

    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, ask_to_stop)
    processes = []
    try:
        for command in commands:
            processes.append(subprocess.Popen(command, start_new_session=True))
        while not asked:
            ended = next((process for process in processes if process.poll() is not None), None)
            if ended is not None:
                say(f"{ended.args[0]} (pid {ended.pid}) ended with status {ended.returncode}; stopping the rest")
                return exit_status(ended.returncode)
            time.sleep(POLL_SECONDS)
        say(f"{signal.Signals(asked[0]).name}: stopping {', '.join(str(p.pid) for p in processes)}")
        return 0
    finally:
        stop(processes, grace)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grace", type=float, default=30.0)
    args = parser.parse_args(argv[:split])
    try:
        commands = split_commands(argv[split:])
    except ValueError as exc:
        parser.error(str(exc))
    return supervise(commands, args.grace)


if __name__ == "__main__":
    sys.exit(main())
