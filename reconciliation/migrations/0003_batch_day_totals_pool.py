# batch_day_totals gains pool_id: the closed pool holding the batches of a row (0 when none).
#
# A batch in a closed pool is valued at the pool's rates, not at the price
# agreements (docs/SETTLEMENT.md "Reconciliation with pools"), so the report
# must tell its rows apart without reading batches. The pool is part of the
# key; triggers on pool_batches move a batch's share from pool 0 to its pool
# when a pool closes (one set-based statement per close, whatever its size),
# and back if a membership row is ever deleted. ix_batch_day_totals_pool sums
# a pool's kg per grade (its rates' denominators) without touching other rows.

import importlib

from django.db import migrations, models

before = importlib.import_module("reconciliation.migrations.0002_batch_day_totals")

# The batch's closed pool, or 0. pool_batches.batch_id is unique (an index), so this is one probe.
POOL_OF_BATCH = "coalesce((SELECT pb.pool_id FROM pool_batches pb WHERE pb.batch_id = b.id), 0)"

COLUMNS = """day, grower_id, fruit_type, variety, packhouse_id, rejected, graded, has_class1, has_class2,
    has_class3, pool_id, batches, net_kg, class1_kg, class2_kg, class3_kg"""

KEY_EQUALS = """t.day = d.day AND t.grower_id = d.grower_id AND t.fruit_type = d.fruit_type
           AND t.variety = d.variety AND t.packhouse_id = d.packhouse_id AND t.rejected = d.rejected
           AND t.graded = d.graded AND t.has_class1 = d.has_class1 AND t.has_class2 = d.has_class2
           AND t.has_class3 = d.has_class3"""

ADD_COLUMN = "ALTER TABLE batch_day_totals ADD COLUMN pool_id bigint DEFAULT 0 NOT NULL"
POOL_KEY = """
ALTER TABLE batch_day_totals DROP CONSTRAINT batch_day_totals_pkey,
    ADD CONSTRAINT batch_day_totals_pkey PRIMARY KEY (
        day, grower_id, fruit_type, variety, packhouse_id, rejected, graded, has_class1, has_class2, has_class3,
        pool_id
    )
"""
# Only pooled rows: the index stays as small as the closed pools.
CREATE_POOL_INDEX = """
CREATE INDEX ix_batch_day_totals_pool ON batch_day_totals (pool_id, day)
    INCLUDE (grower_id, rejected, class1_kg, class2_kg, class3_kg) WHERE pool_id <> 0
"""

CREATE_SYNC_FUNCTION = """
CREATE OR REPLACE FUNCTION batch_day_totals_sync() RETURNS trigger LANGUAGE plpgsql AS $$
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
           AND t.pool_id = (SELECT %(pool)s FROM (SELECT OLD.*) b)
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
        INSERT INTO batch_day_totals AS t (%(columns)s)
        SELECT %(key)s, %(pool)s,
               1, b.net_weight_kg, coalesce(b.class1_kg, 0), coalesce(b.class2_kg, 0), coalesce(b.class3_kg, 0)
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
""" % {"key": before.KEY_AND_MEASURES, "pool": POOL_OF_BATCH, "columns": COLUMNS}

# The batches being moved, summed per key of batch_day_totals and pair of pools.
MOVED = """
    SELECT %s, m.from_pool, m.to_pool, count(*) AS batches, sum(b.net_weight_kg) AS net_kg,
           coalesce(sum(b.class1_kg), 0) AS class1_kg, coalesce(sum(b.class2_kg), 0) AS class2_kg,
           coalesce(sum(b.class3_kg), 0) AS class3_kg
    FROM unnest(batch_ids, from_pools, to_pools) AS m(batch_id, from_pool, to_pool)
    JOIN batches b ON b.id = m.batch_id
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12""" % """
    (b.intake_date AT TIME ZONE zone)::date AS day, b.grower_id, b.fruit_type, b.variety, b.packhouse_id,
    b.status = 'rejected' AS rejected, b.class1_kg IS NOT NULL AS graded,
    coalesce(b.class1_kg, 0) > 0 AS has_class1, coalesce(b.class2_kg, 0) > 0 AS has_class2,
    coalesce(b.class3_kg, 0) > 0 AS has_class3"""

# Moves whole batches between pools (0 = none) in batch_day_totals: one UPDATE, one INSERT, one DELETE for any
# number of batches. Called by the pool_batches triggers with their transition tables as arrays.
CREATE_MOVE_FUNCTION = """
CREATE FUNCTION batch_day_totals_move(batch_ids bigint[], from_pools bigint[], to_pools bigint[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT time_zone FROM reconciliation_settings WHERE id = 1);
BEGIN
    IF current_setting('fruitpak.bulk_batch_load', true) = 'on' THEN
        RETURN;
    END IF;
    UPDATE batch_day_totals t
       SET batches = t.batches - d.batches,
           net_kg = t.net_kg - d.net_kg,
           class1_kg = t.class1_kg - d.class1_kg,
           class2_kg = t.class2_kg - d.class2_kg,
           class3_kg = t.class3_kg - d.class3_kg
      FROM (%(moved)s) d
     WHERE %(key_equals)s AND t.pool_id = d.from_pool;
    INSERT INTO batch_day_totals AS t (%(columns)s)
    SELECT day, grower_id, fruit_type, variety, packhouse_id, rejected, graded, has_class1, has_class2, has_class3,
           to_pool, batches, net_kg, class1_kg, class2_kg, class3_kg
    FROM (%(moved)s) d
    ON CONFLICT ON CONSTRAINT batch_day_totals_pkey DO UPDATE
       SET batches = t.batches + EXCLUDED.batches,
           net_kg = t.net_kg + EXCLUDED.net_kg,
           class1_kg = t.class1_kg + EXCLUDED.class1_kg,
           class2_kg = t.class2_kg + EXCLUDED.class2_kg,
           class3_kg = t.class3_kg + EXCLUDED.class3_kg;
    DELETE FROM batch_day_totals t
     USING (SELECT DISTINCT (b.intake_date AT TIME ZONE zone)::date AS day, b.grower_id
              FROM batches b WHERE b.id = ANY (batch_ids)) d
     WHERE t.day = d.day AND t.grower_id = d.grower_id AND t.batches = 0;
END
$$
""" % {"moved": MOVED, "key_equals": KEY_EQUALS, "columns": COLUMNS}

# Transition tables need one trigger per event. An UPDATE of a membership is a delete and an insert.
CREATE_POOL_FUNCTION = """
CREATE FUNCTION batch_day_totals_pool_batches() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM batch_day_totals_move(array_agg(batch_id), array_agg(pool_id), array_agg(0::bigint))
           FROM left_rows HAVING count(*) > 0;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM batch_day_totals_move(array_agg(batch_id), array_agg(0::bigint), array_agg(pool_id))
           FROM joined_rows HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$$
"""
CREATE_POOL_TRIGGERS = [
    """CREATE TRIGGER batch_day_totals_pool_insert AFTER INSERT ON pool_batches
       REFERENCING NEW TABLE AS joined_rows FOR EACH STATEMENT EXECUTE FUNCTION batch_day_totals_pool_batches()""",
    """CREATE TRIGGER batch_day_totals_pool_delete AFTER DELETE ON pool_batches
       REFERENCING OLD TABLE AS left_rows FOR EACH STATEMENT EXECUTE FUNCTION batch_day_totals_pool_batches()""",
    """CREATE TRIGGER batch_day_totals_pool_update AFTER UPDATE ON pool_batches
       REFERENCING OLD TABLE AS left_rows NEW TABLE AS joined_rows
       FOR EACH STATEMENT EXECUTE FUNCTION batch_day_totals_pool_batches()""",
]

CREATE_REBUILD_FUNCTION = """
CREATE OR REPLACE FUNCTION batch_day_totals_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT time_zone FROM reconciliation_settings WHERE id = 1);
    total bigint;
BEGIN
    LOCK TABLE batches IN SHARE MODE;
    LOCK TABLE pool_batches IN SHARE MODE;
    TRUNCATE batch_day_totals;
    INSERT INTO batch_day_totals (%(columns)s)
    SELECT %(key)s, coalesce(pb.pool_id, 0), count(*), sum(b.net_weight_kg),
           coalesce(sum(b.class1_kg), 0), coalesce(sum(b.class2_kg), 0), coalesce(sum(b.class3_kg), 0)
    FROM batches b
    LEFT JOIN pool_batches pb ON pb.batch_id = b.id
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
    GET DIAGNOSTICS total = ROW_COUNT;
    -- The planner must know the new size at once (autovacuum comes later).
    ANALYZE batch_day_totals;
    RETURN total;
END
$$
""" % {"key": before.KEY_AND_MEASURES, "columns": COLUMNS}

FORWARD = [
    ADD_COLUMN, POOL_KEY, CREATE_POOL_INDEX, CREATE_SYNC_FUNCTION, CREATE_MOVE_FUNCTION, CREATE_POOL_FUNCTION,
    *CREATE_POOL_TRIGGERS, CREATE_REBUILD_FUNCTION, "SELECT batch_day_totals_rebuild()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS batch_day_totals_pool_insert ON pool_batches",
    "DROP TRIGGER IF EXISTS batch_day_totals_pool_delete ON pool_batches",
    "DROP TRIGGER IF EXISTS batch_day_totals_pool_update ON pool_batches",
    "DROP FUNCTION IF EXISTS batch_day_totals_pool_batches()",
    "DROP FUNCTION IF EXISTS batch_day_totals_move(bigint[], bigint[], bigint[])",
    "DROP INDEX IF EXISTS ix_batch_day_totals_pool",
    # Without the pool in the key, a pooled row and its unpooled twin would collide: empty, then rebuild.
    "TRUNCATE batch_day_totals",
    "ALTER TABLE batch_day_totals DROP CONSTRAINT batch_day_totals_pkey",
    "ALTER TABLE batch_day_totals DROP COLUMN pool_id",
    """ALTER TABLE batch_day_totals ADD CONSTRAINT batch_day_totals_pkey PRIMARY KEY (
        day, grower_id, fruit_type, variety, packhouse_id, rejected, graded, has_class1, has_class2, has_class3)""",
    before.CREATE_SYNC_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
    before.CREATE_REBUILD_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
    "SELECT batch_day_totals_rebuild()",
]


class Migration(migrations.Migration):

    dependencies = [
        ("reconciliation", "0002_batch_day_totals"),
        ("pools", "0002_pool_income_append_only"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="batchdaytotal", name="pool_id",
                    field=models.BigIntegerField(db_default=0),
                ),
                migrations.AlterField(
                    model_name="batchdaytotal", name="pk",
                    field=models.CompositePrimaryKey(
                        "day", "grower", "fruit_type", "variety", "packhouse", "rejected", "graded",
                        "has_class1", "has_class2", "has_class3", "pool_id",
                        blank=True, editable=False, primary_key=True, serialize=False,
                    ),
                ),
            ],
            database_operations=[migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)],
        ),
    ]
