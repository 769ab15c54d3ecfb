# batch_day_totals: the batches summed per local day, grower and everything that prices them.
#
# The reconciliation report values these sums instead of every batch (sql.py,
# docs/RECONCILIATION.md "How the report stays fast"). A row trigger on
# batches keeps them exact in the same transaction as every write, whoever
# writes; a TRUNCATE of batches empties them; batch_day_totals_rebuild()
# recomputes them all (after a bulk load that set fruitpak.bulk_batch_load, or when
# the company's time zone changes). Names are unqualified on purpose: they
# resolve through the company's search_path, so the schema can be renamed
# (restore_company) without rewriting the functions.

from django.db import migrations, models

CREATE_TABLE = """
CREATE TABLE batch_day_totals (
    day date NOT NULL,
    grower_id bigint NOT NULL,
    fruit_type varchar(20) NOT NULL,
    variety varchar(100) NOT NULL,
    packhouse_id bigint NOT NULL,
    rejected boolean NOT NULL,
    graded boolean NOT NULL,
    has_class1 boolean NOT NULL,
    has_class2 boolean NOT NULL,
    has_class3 boolean NOT NULL,
    batches integer NOT NULL CONSTRAINT batch_day_totals_batches_non_negative CHECK (batches >= 0),
    net_kg numeric(16, 2) NOT NULL,
    class1_kg numeric(16, 2) NOT NULL,
    class2_kg numeric(16, 2) NOT NULL,
    class3_kg numeric(16, 2) NOT NULL,
    CONSTRAINT batch_day_totals_pkey PRIMARY KEY (
        day, grower_id, fruit_type, variety, packhouse_id, rejected, graded, has_class1, has_class2, has_class3
    )
)
"""
CREATE_GROWER_INDEX = "CREATE INDEX ix_batch_day_totals_grower_day ON batch_day_totals (grower_id, day)"

# One batch's key and measures, as the SELECT list of both the trigger and the rebuild.
# `b` is the batch row, `zone` the company's time zone.
KEY_AND_MEASURES = """
    (b.intake_date AT TIME ZONE zone)::date, b.grower_id, b.fruit_type, b.variety, b.packhouse_id,
    b.status = 'rejected', b.class1_kg IS NOT NULL,
    coalesce(b.class1_kg, 0) > 0, coalesce(b.class2_kg, 0) > 0, coalesce(b.class3_kg, 0) > 0"""

CREATE_SYNC_FUNCTION = """
CREATE FUNCTION batch_day_totals_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT time_zone FROM reconciliation_settings WHERE id = 1);
    remaining integer;
BEGIN
    -- A bulk load (reconciliation.services.bulk_batch_load) rebuilds the totals once at its end instead.
    IF current_setting('fruitpak.bulk_batch_load', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE batch_day_totals t
           SET batches = t.batches - 1,
               net_kg = t.net_kg - OLD.net_weight_kg,
               class1_kg = t.class1_kg - coalesce(OLD.class1_kg, 0),
               class2_kg = t.class2_kg - coalesce(OLD.class2_kg, 0),
               class3_kg = t.class3_kg - coalesce(OLD.class3_kg, 0)
         WHERE t.day = (OLD.intake_date AT TIME ZONE zone)::date AND t.grower_id = OLD.grower_id
           AND t.fruit_type = OLD.fruit_type AND t.variety = OLD.variety AND t.packhouse_id = OLD.packhouse_id
           AND t.rejected = (OLD.status = 'rejected') AND t.graded = (OLD.class1_kg IS NOT NULL)
           AND t.has_class1 = (coalesce(OLD.class1_kg, 0) > 0) AND t.has_class2 = (coalesce(OLD.class2_kg, 0) > 0)
           AND t.has_class3 = (coalesce(OLD.class3_kg, 0) > 0)
        RETURNING t.batches INTO remaining;
        IF remaining IS NULL THEN
            RAISE EXCEPTION 'batch_day_totals has no row for batch %%; run batch_day_totals_rebuild()', OLD.id;
        ELSIF remaining = 0 THEN
            DELETE FROM batch_day_totals t
             WHERE t.batches = 0 AND t.day = (OLD.intake_date AT TIME ZONE zone)::date
               AND t.grower_id = OLD.grower_id AND t.fruit_type = OLD.fruit_type AND t.variety = OLD.variety;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO batch_day_totals AS t
        SELECT %s, 1, b.net_weight_kg, coalesce(b.class1_kg, 0), coalesce(b.class2_kg, 0), coalesce(b.class3_kg, 0)
        FROM (SELECT NEW.*) b
        ON CONFLICT ON CONSTRAINT batch_day_totals_pkey DO UPDATE
           SET batches = t.batches + 1,
               net_kg = t.net_kg + EXCLUDED.net_kg,
               class1_kg = t.class1_kg + EXCLUDED.class1_kg,
               class2_kg = t.class2_kg + EXCLUDED.class2_kg,
               class3_kg = t.class3_kg + EXCLUDED.class3_kg;
    END IF;
    RETURN NULL;
END
$$
""" % KEY_AND_MEASURES

CREATE_ROW_TRIGGERS = [
    """
CREATE TRIGGER batch_day_totals_sync
AFTER INSERT OR DELETE ON batches
FOR EACH ROW EXECUTE FUNCTION batch_day_totals_sync()
""",
    # Only the columns the totals depend on wake it on UPDATE: a transition, a note or a bin count costs nothing.
    """
CREATE TRIGGER batch_day_totals_sync_update
AFTER UPDATE ON batches
FOR EACH ROW
WHEN ((OLD.intake_date, OLD.grower_id, OLD.fruit_type, OLD.variety, OLD.packhouse_id, OLD.status = 'rejected',
       OLD.net_weight_kg, OLD.class1_kg, OLD.class2_kg, OLD.class3_kg)
      IS DISTINCT FROM
      (NEW.intake_date, NEW.grower_id, NEW.fruit_type, NEW.variety, NEW.packhouse_id, NEW.status = 'rejected',
       NEW.net_weight_kg, NEW.class1_kg, NEW.class2_kg, NEW.class3_kg))
EXECUTE FUNCTION batch_day_totals_sync()
""",
]

CREATE_TRUNCATE_FUNCTION = """
CREATE FUNCTION batch_day_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE batch_day_totals;
    RETURN NULL;
END
$$
"""
CREATE_TRUNCATE_TRIGGER = """
CREATE TRIGGER batch_day_totals_truncate AFTER TRUNCATE ON batches
FOR EACH STATEMENT EXECUTE FUNCTION batch_day_totals_truncate()
"""

# Blocks writers to batches (readers go on) while it recomputes, so no write is lost in between.
CREATE_REBUILD_FUNCTION = """
CREATE FUNCTION batch_day_totals_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT time_zone FROM reconciliation_settings WHERE id = 1);
    total bigint;
BEGIN
    LOCK TABLE batches IN SHARE MODE;
    TRUNCATE batch_day_totals;
    INSERT INTO batch_day_totals
    SELECT %s, count(*), sum(b.net_weight_kg),
           coalesce(sum(b.class1_kg), 0), coalesce(sum(b.class2_kg), 0), coalesce(sum(b.class3_kg), 0)
    FROM batches b
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
    GET DIAGNOSTICS total = ROW_COUNT;
    -- The planner must know the new size at once (autovacuum comes later).
    ANALYZE batch_day_totals;
    RETURN total;
END
$$
""" % KEY_AND_MEASURES


class Migration(migrations.Migration):

    dependencies = [
        ("reconciliation", "0001_initial"),
        ("batches", "0003_batch_history_no_single_batch_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="BatchDayTotal",
            fields=[
                ("pk", models.CompositePrimaryKey(
                    "day", "grower", "fruit_type", "variety", "packhouse", "rejected", "graded",
                    "has_class1", "has_class2", "has_class3",
                    blank=True, editable=False, primary_key=True, serialize=False,
                )),
                ("day", models.DateField()),
                ("fruit_type", models.CharField(max_length=20)),
                ("variety", models.CharField(max_length=100)),
                ("rejected", models.BooleanField()),
                ("graded", models.BooleanField()),
                ("has_class1", models.BooleanField()),
                ("has_class2", models.BooleanField()),
                ("has_class3", models.BooleanField()),
                ("batches", models.IntegerField()),
                ("net_kg", models.DecimalField(decimal_places=2, max_digits=16)),
                ("class1_kg", models.DecimalField(decimal_places=2, max_digits=16)),
                ("class2_kg", models.DecimalField(decimal_places=2, max_digits=16)),
                ("class3_kg", models.DecimalField(decimal_places=2, max_digits=16)),
                ("grower", models.ForeignKey(
                    db_constraint=False, on_delete=models.deletion.DO_NOTHING, related_name="+", to="growers.grower",
                )),
                ("packhouse", models.ForeignKey(
                    db_constraint=False, on_delete=models.deletion.DO_NOTHING, related_name="+",
                    to="packhouses.packhouse",
                )),
            ],
            options={"db_table": "batch_day_totals", "managed": False, "default_permissions": ()},
        ),
        migrations.RunSQL(
            sql=[
                CREATE_TABLE, CREATE_GROWER_INDEX, CREATE_SYNC_FUNCTION, *CREATE_ROW_TRIGGERS,
                CREATE_TRUNCATE_FUNCTION, CREATE_TRUNCATE_TRIGGER, CREATE_REBUILD_FUNCTION,
                "SELECT batch_day_totals_rebuild()",
            ],
            reverse_sql=[
                "DROP TRIGGER IF EXISTS batch_day_totals_sync ON batches",
                "DROP TRIGGER IF EXISTS batch_day_totals_sync_update ON batches",
                "DROP TRIGGER IF EXISTS batch_day_totals_truncate ON batches",
                "DROP FUNCTION IF EXISTS batch_day_totals_sync()",
                "DROP FUNCTION IF EXISTS batch_day_totals_truncate()",
                "DROP FUNCTION IF EXISTS batch_day_totals_rebuild()",
                "DROP TABLE IF EXISTS batch_day_totals",
            ],
        ),
    ]
