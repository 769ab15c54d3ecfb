"""Large imports as jobs: the page would time out checking or writing thousands of rows in its request."""

from core.jobs import company_task

from . import imports
from .models import ImportRun, Status


@company_task()
def preview_import(run_id):
    run = ImportRun.objects.select_related("created_by").get(pk=run_id)
    if run.status == Status.PREVIEWING:
        imports.preview(run, live=True)


@company_task()
def write_import(run_id):
    run = ImportRun.objects.select_related("confirmed_by").get(pk=run_id)
    if run.status == Status.IMPORTING:
        imports.write(run, live=True)
