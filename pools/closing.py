"""The progress of a pool being closed by the job worker: the one place that owns its steps and its cache key.

A close is one transaction (the pool's batches, its status and its history commit together or not at all), so
a step written to the database inside it would be invisible to the page until the end. The step goes to the
cache instead (Redis), as the import runs' row counts do (onboarding.imports); the `pool_closings` row keeps
what must last: queued, running, done (with the batch count) or refused (with the reason). With Redis down the
page shows "running" without the step, and the close itself is unaffected.
"""

from dataclasses import dataclass

from django.core.cache import cache

from .models import ClosingStatus

# (key, what the page says), in the order close_pool reaches them.
STEPS = (
    ("writing", "Writing the pool's batches (each is checked to be in no other closed pool)"),
    ("recording", "Recording the close"),
)
STEP_KEYS = tuple(key for key, _ in STEPS)
STEP_LABELS = dict(STEPS)
PROGRESS_SECONDS = 3600


def progress_key(closing_id):
    return f"pools:closing:{closing_id}"


class StepReporter:
    """close_pool's `progress` callback for a queued close: each step it reaches, where the page sees it."""

    def __init__(self, closing):
        self.key = progress_key(closing.pk)

    def __call__(self, step):
        cache.set(self.key, step, PROGRESS_SECONDS)


@dataclass(frozen=True)
class Progress:
    status: str
    step: str  # a key of STEPS while running and known, else ""
    steps_done: int
    steps_total: int
    label: str

    @property
    def percent(self):
        return round(100 * self.steps_done / self.steps_total)


def progress(closing):
    """Where a close is: its row's status, and while it runs, the step from the cache."""
    total = len(STEPS) + 1  # the steps, and the commit
    if closing.status == ClosingStatus.DONE:
        return Progress(closing.status, "", total, total, f"Closed with {closing.batches} batches.")
    if closing.status == ClosingStatus.FAILED:
        return Progress(closing.status, "", 0, total, closing.error)
    if closing.status == ClosingStatus.QUEUED:
        return Progress(closing.status, "", 0, total, "Waiting for the job worker.")
    step = cache.get(progress_key(closing.pk)) or ""
    if step not in STEP_LABELS:
        return Progress(closing.status, "", 0, total, "Closing.")
    return Progress(closing.status, step, STEP_KEYS.index(step), total, f"{STEP_LABELS[step]}.")


def forget(closing):
    cache.delete(progress_key(closing.pk))
