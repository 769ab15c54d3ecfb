"""Reconciliation's models: a permission holder, the time-zone row and the daily intake view.

The report itself has no table: it is one SQL statement over batches, price
agreements and payments (see report.py).
"""

from django.db import models

from growers.models import FruitType

VIEW_PERMISSION = "reconciliation.view_reconciliation"


class Reconciliation(models.Model):
    """No table. It carries the permission `reconciliation.view_reconciliation`.

    The roles grant actions per app (accounts/roles.py): Finance has "view"
    on this app and Manager everything, Clerk nothing. So this permission
    reaches exactly the roles that may read the report and the grower
    statements, with no change to the roles, and it stays reconciliation's
    own instead of borrowing `payments.view_growerpayment`.
    """

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = "reconciliation report"

    def __str__(self):
        return "reconciliation"


class LocalTimeZone(models.Model):
    """One row: the company's time zone, copied into its schema for daily_grower_intake.

    A materialized view cannot take parameters, and the company row lives in
    the public schema. The view joins this row to turn intake times into
    local days. The migration fills it from the company; every refresh
    (services.refresh_intake_view) first copies the company's current zone
    here, so a changed zone is right after the next refresh.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    time_zone = models.CharField(max_length=64)

    class Meta:
        db_table = "reconciliation_settings"
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="reconciliation_settings_one_row")]

    def __str__(self):
        return self.time_zone


class DailyGrowerIntake(models.Model):
    """The materialized view daily_grower_intake: intake per local day, grower, packhouse and fruit.

    Every batch counts, rejected ones too: it is what arrived at the
    weighbridge. Read-only; refreshed by services.refresh_intake_view.
    """

    pk = models.CompositePrimaryKey("day", "grower", "packhouse", "fruit_type")
    day = models.DateField(help_text="The company's local date of intake.")
    grower = models.ForeignKey(
        "growers.Grower", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    packhouse = models.ForeignKey(
        "packhouses.Packhouse", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    fruit_type = models.CharField(max_length=20, choices=FruitType.choices)
    batches = models.BigIntegerField()
    bins = models.BigIntegerField()
    net_kg = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        managed = False
        db_table = "daily_grower_intake"
        default_permissions = ()
        ordering = ["-day", "grower", "packhouse", "fruit_type"]
        verbose_name_plural = "daily grower intake"

    def __str__(self):
        return f"{self.day} {self.grower_id} {self.packhouse_id} {self.fruit_type}"


class BatchDayTotal(models.Model):
    """The table batch_day_totals: batches summed per local day, grower and what prices them.

    The reconciliation report values these rows, not every batch: one row
    stands for all of a day's batches that share a grower, fruit, variety,
    packhouse, rejection, pack-out shape (which classes have kg) and closed
    pool, so they need the same prices. Triggers on batches keep it exact in the writer's
    own transaction (migrations 0002, 0003); read-only here.
    """

    pk = models.CompositePrimaryKey(
        "day", "grower", "fruit_type", "variety", "packhouse", "rejected", "graded",
        "has_class1", "has_class2", "has_class3", "pool_id",
    )
    day = models.DateField()
    grower = models.ForeignKey(
        "growers.Grower", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    fruit_type = models.CharField(max_length=20)
    variety = models.CharField(max_length=100)
    packhouse = models.ForeignKey(
        "packhouses.Packhouse", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    rejected = models.BooleanField()
    graded = models.BooleanField()  # the pack-out is recorded (class1_kg is not null)
    has_class1 = models.BooleanField()
    has_class2 = models.BooleanField()
    has_class3 = models.BooleanField()
    # The closed pool holding these batches (pool_batches), 0 for none: they are valued at its rates.
    pool_id = models.BigIntegerField(db_default=0)
    batches = models.IntegerField()
    net_kg = models.DecimalField(max_digits=16, decimal_places=2)
    class1_kg = models.DecimalField(max_digits=16, decimal_places=2)
    class2_kg = models.DecimalField(max_digits=16, decimal_places=2)
    class3_kg = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        managed = False
        db_table = "batch_day_totals"
        default_permissions = ()

    def __str__(self):
        return f"{self.day} {self.grower_id} {self.fruit_type} {self.variety}: {self.batches}"
