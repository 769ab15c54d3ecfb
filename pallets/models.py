from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from batches.models import KG

ROOM_CODE_RE = r"^[A-Z0-9][A-Z0-9-]{0,9}$"


class Grade(models.TextChoices):
    CLASS1 = "class1", "Class 1"
    CLASS2 = "class2", "Class 2"
    CLASS3 = "class3", "Class 3"


class PalletStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    STORED = "stored", "Stored"
    LOADED = "loaded", "Loaded"
    DISPATCHED = "dispatched", "Dispatched"


# Pallets still in the packhouse: what a room's stock holds.
IN_HOUSE = (PalletStatus.OPEN, PalletStatus.CLOSED, PalletStatus.STORED)


class Room(models.Model):
    """A cold-store room of a packhouse. Kept here, not in packhouses: see docs/decisions.md."""

    packhouse = models.ForeignKey("packhouses.Packhouse", on_delete=models.PROTECT, related_name="rooms",
                                  db_index=False)
    code = models.CharField(max_length=10, validators=[
        RegexValidator(ROOM_CODE_RE, "Use 1 to 10 capital letters, digits or dashes, e.g. CR1."),
    ])
    name = models.CharField(max_length=100)
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="Pallets the room holds.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "rooms"
        ordering = ["packhouse__code", "code"]
        constraints = [
            # Also the packhouse's index: it leads with packhouse.
            models.UniqueConstraint(fields=["packhouse", "code"], name="rooms_code_unique_in_packhouse"),
            models.CheckConstraint(condition=Q(code__regex=ROOM_CODE_RE), name="rooms_code_format"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="rooms_capacity_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class SsccCounter(models.Model):
    """The company's last SSCC serial reference: one row, locked by the UPDATE that takes the next."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_serial = models.BigIntegerField(default=0)

    class Meta:
        db_table = "sscc_counter"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="sscc_counter_one_row")]

    def __str__(self):
        return str(self.last_serial)


class Pallet(models.Model):
    """A pallet built at a packhouse, known everywhere by its SSCC."""

    sscc = models.CharField("SSCC", max_length=18, unique=True, editable=False)
    packhouse = models.ForeignKey("packhouses.Packhouse", on_delete=models.PROTECT, related_name="pallets")
    built_at = models.DateTimeField(default=timezone.now)
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    status = models.CharField(max_length=12, choices=PalletStatus.choices, default=PalletStatus.OPEN)
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="pallets")
    # Bumped by every change; a client may send it back to refuse lost updates.
    version = models.PositiveIntegerField(default=1)
    # The Build form's one-time key or a client's Idempotency-Key: a second press of Build, or a retried POST,
    # returns this pallet instead of burning another SSCC.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)  # noqa: DJ001
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "pallets"
        ordering = ["-built_at", "-id"]
        permissions = [("reopen_pallet", "Can reopen a closed or stored pallet")]
        indexes = [
            models.Index(fields=["status", "built_at"], name="ix_pallets_status_built"),
            # A replayed key's lookup. Not unique: a unique index on an existing table fails the migration
            # linter; the SSCC counter's row lock serialises builds instead (services.build_pallet).
            models.Index(fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False),
                         name="ix_pallets_idempotency_key"),
            # A room's stock page and count: the pallets still in the house, oldest first. The plain room index
            # also holds every pallet that ever left the room (45,000 a room at 1,000,000 batches).
            models.Index(fields=["room", "built_at", "id"], condition=Q(status__in=IN_HOUSE),
                         name="ix_pallets_room_in_house"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sscc__regex=r"^[0-9]{18}$"), name="pallets_sscc_format"),
            models.CheckConstraint(condition=Q(status__in=PalletStatus.values), name="pallets_status_valid"),
        ]

    def __str__(self):
        return self.sscc


class PalletLine(models.Model):
    """Cartons of one grade of one batch on a pallet."""

    pallet = models.ForeignKey(Pallet, on_delete=models.PROTECT, related_name="lines")
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="pallet_lines",
                              db_index=False)
    grade = models.CharField(max_length=6, choices=Grade.choices)
    cartons = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    kg = models.DecimalField(**KG)
    added_at = models.DateTimeField(default=timezone.now)
    # The Add-line form's one-time key or a client's Idempotency-Key: a double submit adds the line once.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)  # noqa: DJ001

    class Meta:
        db_table = "pallet_lines"
        ordering = ["id"]
        indexes = [
            # The kg rule sums by (batch, grade); the batch page lists by batch.
            models.Index(fields=["batch", "grade"], name="ix_pallet_lines_batch_grade"),
            # A replayed key's lookup; the pallet's row lock serialises adds instead of a unique index
            # (services.add_line).
            models.Index(fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False),
                         name="ix_pallet_lines_idempotency_key"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(cartons__gte=1), name="pallet_lines_cartons_positive"),
            models.CheckConstraint(condition=Q(kg__gt=0), name="pallet_lines_kg_positive"),
            models.CheckConstraint(condition=Q(grade__in=Grade.values), name="pallet_lines_grade_valid"),
        ]

    def __str__(self):
        return f"{self.pallet_id}: {self.batch_id} {self.grade} {self.kg} kg"


class PalletHistory(models.Model):
    """Append-only: one row for every change to a pallet, written in the same transaction."""

    class Event(models.TextChoices):
        BUILT = "built", "Built"
        LINE_ADDED = "line_added", "Line added"
        LINE_REMOVED = "line_removed", "Line removed"
        CLOSED = "closed", "Closed"
        REOPENED = "reopened", "Reopened"
        MOVED = "moved", "Moved"
        LOADED = "loaded", "Loaded"
        UNLOADED = "unloaded", "Unloaded"
        DISPATCHED = "dispatched", "Dispatched"

    pallet = models.ForeignKey(Pallet, on_delete=models.PROTECT, related_name="history", db_index=False)
    event = models.CharField(max_length=20, choices=Event.choices)
    payload = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    # PROTECT, not SET_NULL: history rows may never be updated, not even by a cascade.
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        db_table = "pallet_history"
        ordering = ["recorded_at", "id"]
        verbose_name_plural = "pallet history"
        indexes = [models.Index(fields=["pallet", "recorded_at"], name="ix_pallet_history_pallet_rec")]

    def __str__(self):
        return f"{self.pallet_id} {self.event} at {self.recorded_at:%Y-%m-%d %H:%M}"
