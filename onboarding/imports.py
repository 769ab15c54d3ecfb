"""Checking and writing an ImportRun: the preview is the import itself, rolled back.

Both run every row through the owning app's service, each in a savepoint,
inside one transaction. The preview then rolls it all back, so what it
promises is what the services said, cross-row effects included (two new
price agreements in one file that overlap). Confirmation does it again on the
data as it is then and commits only when no row was refused: everything or
nothing.

Progress of a long run goes to the cache while its rows are uncommitted
(see _Progress).
"""

import logging

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import parsing
from .kinds import RowRefused, key_text, kind_for
from .models import Status

log = logging.getLogger(__name__)

NEW, CHANGED, UNCHANGED, REFUSED = "new", "changed", "unchanged", "refused"
STATUSES = (NEW, CHANGED, UNCHANGED, REFUSED)


class _Refused(Exception):
    def __init__(self, results):
        self.results = results


def read(run):
    """The run's file as a Table; ValidationError when the file as a whole is unusable."""
    importer = kind_for(run.kind)
    return parsing.load(bytes(run.content), run.file_format, columns=importer.column_names,
                        required=importer.required)


def preview(run, *, live=False):
    """Check every row through the services, write nothing, store the outcome on `run` (status ready)."""
    with transaction.atomic():
        results = _evaluate(run, by=run.created_by, live=live)
        transaction.set_rollback(True)
    _store(run, results, Status.READY)
    return run


def write(run, *, live=False):
    """Import the rows of a confirmed run: all of them, or, when any row is refused now, none."""
    try:
        with transaction.atomic():
            results = _evaluate(run, by=run.confirmed_by, live=live)
            refused = [result for result in results if result["status"] == REFUSED]
            if refused:
                raise _Refused(results)
            _store(run, results, Status.DONE)
    except _Refused as exc:
        refused = [result for result in exc.results if result["status"] == REFUSED]
        first = refused[0]
        _store(run, exc.results, Status.READY, error=(
            f"Nothing was imported: {len(refused)} row{'s were' if len(refused) > 1 else ' was'} refused when "
            f"writing (the data changed since the preview), first row {first['line']}: {first['reason']}"
        ))
    except Exception:
        log.exception("import run %s stopped", run.pk)
        _store(run, run.rows, Status.FAILED, error=(
            "The import stopped on an unexpected error and nothing was imported. Try again; if it happens "
            "again, tell support the import's number."
        ))
        raise
    return run


def _evaluate(run, *, by, live):
    importer = kind_for(run.kind)
    table = read(run)
    importer.prepare(table.rows)
    progress = _Progress(run, len(table.rows)) if live else None
    seen, results = {}, []
    for done, row in enumerate(table.rows, start=1):
        results.append(_one(importer, row, seen, by))
        if progress:
            progress(done)
    return results


def _one(importer, row, seen, by):
    result = {"line": row.line, "key": "", "status": REFUSED, "reason": "", "changes": []}
    try:
        values = importer.parse(row.cells)
        key = importer.key(values)
        result["key"] = key_text(importer, values)
        if key in seen:
            raise RowRefused(f"Row {seen[key]} has the same key ({result['key']}); each row must name a "
                             "different one.")
        seen[key] = row.line
        obj = importer.find(values)
        if obj is None:
            with transaction.atomic():
                importer.create(values, by)
            result["status"] = NEW
            return result
        changes = importer.changes(obj, values)
        if not changes:
            result["status"] = UNCHANGED
            return result
        result["changes"] = [f"{importer.label(name)}: {_shown(getattr(obj, name))} → {_shown(value)}"
                             for name, value in changes.items()]
        with transaction.atomic():
            importer.update(obj, changes, by)
        result["status"] = CHANGED
    except RowRefused as exc:
        result["reason"] = str(exc)
    except ValidationError as exc:
        result["reason"] = importer.reason(exc)
    return result


def _shown(value):
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _store(run, results, status, error=""):
    counts = {name: 0 for name in STATUSES}
    for result in results:
        counts[result["status"]] += 1
    run.rows = results
    run.status = status
    run.error = error
    run.new_count, run.changed_count = counts[NEW], counts[CHANGED]
    run.unchanged_count, run.refused_count = counts[UNCHANGED], counts[REFUSED]
    run.processed_rows = len(results)
    if status in (Status.DONE, Status.FAILED):
        run.finished_at = timezone.now()
    run.save(update_fields=["rows", "status", "error", "new_count", "changed_count", "unchanged_count",
                            "refused_count", "processed_rows", "finished_at"])
    # The live count is done with; a confirmation's count must start from nothing.
    transaction.on_commit(lambda: cache.delete(progress_key(run.pk)))


class _Progress:
    """Says how many rows are done, every 2 % or so, where the polling page sees it at once.

    The rows are uncommitted until the end, and so would be a progress column
    written on the same connection; a second database connection per update
    would compete with the requests for the pool. So the count goes to the
    cache (Redis), and the run's processed_rows gets the final count with the
    outcome. With Redis down the page just shows no count until the end.
    """

    def __init__(self, run, total):
        self.key = progress_key(run.pk)
        self.every = max(25, total // 50)

    def __call__(self, done):
        if not done % self.every:
            cache.set(self.key, done, PROGRESS_SECONDS)


PROGRESS_SECONDS = 3600


def progress_key(run_id):
    return f"onboarding:progress:{run_id}"


def processed(run):
    """Rows done of a running run: the live count from the cache, or what the run row says."""
    if not run.running:
        return run.processed_rows
    return max(run.processed_rows, cache.get(progress_key(run.pk)) or 0)
