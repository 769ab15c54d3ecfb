"""The job `make chaos` kills its worker in the middle of (loaded only there, through EXTRA_TASK_MODULES).

chaos_probe creates one grower, whose code the harness chose, inside a transaction it holds open for a
few seconds: the worker is SIGKILLed while it holds it. Each attempt appends a line to a file first, so
the harness can tell that the job was started twice (killed, then retried by core.jobs.retry_stalled_jobs)
and still left exactly one grower: the killed attempt's transaction died with its connection.
"""

import os
import time
from pathlib import Path

from django.db import transaction

from core.jobs import company_task
from growers.services import create_grower


@company_task()
def chaos_probe(code, folder, hold_seconds):
    folder = Path(folder)
    with open(folder / f"{code}.attempts", "a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    with transaction.atomic():
        create_grower(code=code, name="Chaos probe")
        (folder / f"{code}.holding").write_text(str(os.getpid()))
        time.sleep(hold_seconds)
