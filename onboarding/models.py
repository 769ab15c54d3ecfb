from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    GROWERS = "growers", "Growers"
    FARMS = "farms", "Farms"
    BLOCKS = "blocks", "Blocks"
    PRICES = "prices", "Price agreements"


class Status(models.TextChoices):
    PREVIEWING = "previewing", "Checking the rows"
    READY = "ready", "Preview ready"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ImportRun(models.Model):
    """One uploaded spreadsheet: its file, the preview of every row, and whether it was imported.

    The file itself is kept so that confirmation checks and writes exactly
    what was previewed, against the data as it is then. `rows` holds the
    preview: one {"line", "key", "status", "reason", "changes"} per row.
    """

    kind = models.CharField(max_length=10, choices=Kind.choices)
    filename = models.CharField(max_length=200)
    file_format = models.CharField(max_length=4, choices=FileFormat.choices)
    content = models.BinaryField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEWING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0, help_text="Progress of the running check or import.")
    new_count = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    rows = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="Why the last confirmation wrote nothing, if it did not.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "import_runs"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="ix_import_runs_created_at")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=Kind.values), name="import_runs_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="import_runs_status_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.filename} ({self.get_status_display()})"

    @property
    def running(self):
        return self.status in (Status.PREVIEWING, Status.IMPORTING)

    @property
    def percent(self):
        return min(100, round(100 * self.processed_rows / self.total_rows)) if self.total_rows else 0

    @property
    def to_write(self):
        return self.new_count + self.changed_count

    @property
    def confirmable(self):
        return self.status == Status.READY and not self.refused_count
