"""The only code that writes import runs. The rows they import are written by growers' and payments' services."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.jobs import defer_for_company

from . import imports, parsing, tasks
from .kinds import may_import
from .models import ImportRun, Kind, Status

# More rows than this are checked and imported by the job worker, with progress on the page.
QUEUE_ROWS = 500


@transaction.atomic
def upload(*, kind, filename, content, by):
    """Keep the file and preview it: now, or in a job when it is long. ValidationError when the file is unusable."""
    if kind not in Kind.values:
        raise ValidationError({"kind": f"'{kind}' is not a kind of import."})
    if by is not None and not may_import(by, kind):
        raise ValidationError({"kind": f"Your role may not import {Kind(kind).label.lower()}."})
    run = ImportRun(kind=kind, filename=(filename or "upload")[-200:], file_format=parsing.format_of(filename),
                    content=content, created_by=by)
    table = imports.read(run)
    run.total_rows = len(table.rows)
    run.save()
    if run.total_rows > QUEUE_ROWS:
        defer_for_company(tasks.preview_import, run_id=run.pk)
    else:
        imports.preview(run)
    return run


def confirm(run, *, by):
    """Import a previewed run, all rows or none: now, or in a job when it is long."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.status != Status.READY:
            raise ValidationError(f"This import is {run.get_status_display().lower()}; only a preview that is "
                                  "ready can be confirmed.")
        if run.refused_count:
            raise ValidationError(
                f"{run.refused_count} row{'s are' if run.refused_count > 1 else ' is'} refused, so nothing can be "
                "imported yet: an import writes every row or none. Correct the file and upload it again.")
        run.status, run.confirmed_by, run.confirmed_at, run.error = Status.IMPORTING, by, timezone.now(), ""
        run.processed_rows = 0
        run.save(update_fields=["status", "confirmed_by", "confirmed_at", "error", "processed_rows"])
        if run.total_rows > QUEUE_ROWS:
            defer_for_company(tasks.write_import, run_id=run.pk)
            return run
    return imports.write(run)
