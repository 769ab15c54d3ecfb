from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

LOAD_NUMBER_RE = r"^L[0-9]{4}-[0-9]{5,}$"


class LoadStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    LOADING = "loading", "Loading"
    DISPATCHED = "dispatched", "Dispatched"


OPEN_LOAD = (LoadStatus.PLANNING, LoadStatus.LOADING)


class LoadCounter(models.Model):
    """The company's last load number of a year: one row per year, locked by the UPDATE that takes the next."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "load_counters"

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class Load(models.Model):
    """A truck or container leaving a packhouse with pallets."""

    load_number = models.CharField(max_length=16, unique=True, editable=False)
    packhouse = models.ForeignKey("packhouses.Packhouse", on_delete=models.PROTECT, related_name="loads")
    vehicle_registration = models.CharField(max_length=20, blank=True)
    container_number = models.CharField(max_length=11, blank=True, help_text="ISO 6346, e.g. CSQU3054383.")
    seal_number = models.CharField(max_length=30, blank=True)
    destination = models.CharField(max_length=100, blank=True)
    consignee = models.CharField(max_length=100, blank=True)
    planned_departure = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=LoadStatus.choices, default=LoadStatus.PLANNING)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "loads"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="ix_loads_status_created")]
        constraints = [
            models.CheckConstraint(condition=Q(load_number__regex=LOAD_NUMBER_RE), name="loads_number_format"),
            models.CheckConstraint(condition=Q(status__in=LoadStatus.values), name="loads_status_valid"),
            models.CheckConstraint(
                condition=Q(status=LoadStatus.DISPATCHED, dispatched_at__isnull=False)
                | (~Q(status=LoadStatus.DISPATCHED) & Q(dispatched_at__isnull=True)),
                name="loads_dispatched_at_with_status",
            ),
        ]

    def __str__(self):
        return self.load_number

    @property
    def is_open(self):
        return self.status in OPEN_LOAD


class LoadPallet(models.Model):
    """A pallet on a load. The unique pallet is the rule "one load at a time" (a dispatched pallet never
    comes off its load, and a loaded one comes off by deleting this row) and the trace's index from pallet
    to load."""

    load = models.ForeignKey(Load, on_delete=models.PROTECT, related_name="load_pallets")
    pallet = models.OneToOneField("pallets.Pallet", on_delete=models.PROTECT, related_name="load_pallet")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")

    class Meta:
        db_table = "load_pallets"
        ordering = ["added_at", "id"]

    def __str__(self):
        return f"{self.load_id}: {self.pallet_id}"
