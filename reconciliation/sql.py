"""The SQL of reconciliation: batch valuation, the report and the grower statement.

Every statement runs through Django's connection, so the company's schema
is on the search path: no table is ever qualified with a schema. Parameters
are named (%(name)s); the time zone is one of them. The fragments joined
here are constants of this module, never input.

Valuation (docs/RECONCILIATION.md has the rules in full):
- a batch with a pack-out (class1_kg recorded) is worth the sum over
  classes 1 to 3 of kg x price(fruit, variety, class, local intake day);
  waste is worth nothing;
- a batch without a pack-out is worth net kg x the 'ungraded' price;
- per grade, an agreement for the batch's own variety beats a blank-variety one;
- a batch is unpriced when any price it needs is missing (a class with
  0 kg needs none); it then adds nothing to the value and is counted;
- a rejected batch needs no price and is worth nothing.

How it stays fast: the report values batch_day_totals (the batches summed
per local day and everything their prices depend on, kept exact by
triggers: migration 0002), a quarter of the rows of batches at the seed's
scale and a narrow table; the grower statement values one grower's batches.
Prices are expanded per day of the period (agreements x days: a few
thousand rows), pivoted by grade, and joined to each row on (local day,
fruit, variety) and (local day, fruit, blank variety). The rows are then
summed per grower (one group per grower), and PostgreSQL may run it in
parallel.
"""

# The period as the company sees it: from local midnight of `date_from` to
# local midnight after `date_to`, as timestamptz bounds. A plain range on
# intake_date, so ix_batches_intake_date serves it.
PERIOD_START = "(%(date_from)s::date::timestamp AT TIME ZONE %(tz)s)"
PERIOD_END = "((%(date_to)s::date + 1)::timestamp AT TIME ZONE %(tz)s)"


def day_prices(first_day, last_day):
    """CTE day_prices: per day in [first_day, last_day], fruit and variety ('' = any), the price of each grade.

    The agreements for one fruit, variety and grade never overlap (an
    exclusion constraint), so each max() sees at most one price. NOT
    MATERIALIZED: it is joined twice, and inlining keeps the plan parallel-safe.
    """
    return f"""
day_prices AS NOT MATERIALIZED (
    SELECT d.day, pa.fruit_type, pa.variety,
           max(pa.price_per_kg) FILTER (WHERE pa.grade = 'ungraded') AS ungraded,
           max(pa.price_per_kg) FILTER (WHERE pa.grade = 'class1') AS class1,
           max(pa.price_per_kg) FILTER (WHERE pa.grade = 'class2') AS class2,
           max(pa.price_per_kg) FILTER (WHERE pa.grade = 'class3') AS class3
    FROM (SELECT ({first_day}) + n AS day
          FROM generate_series(0, ({last_day}) - ({first_day})) AS n) d
    JOIN price_agreements pa
      ON pa.valid_from <= d.day AND (pa.valid_to IS NULL OR d.day <= pa.valid_to)
    GROUP BY d.day, pa.fruit_type, pa.variety
)"""


def pool_rates(which):
    """CTE pool_rates: per closed pool that `which` (a condition on batch_day_totals pt) finds, each grade's rate.

    rate(g) = income(g) / Σ class-g kg of the pool's batches that are not
    rejected, over every day of the pool (not only the period's): the same
    figure as pools.settlement.grade_rates, kept to 40 decimal places so
    that kg x rate rounds to the same cent as settlement's kg x income / kg.
    A grade whose income nets to nothing has no rate (NULL): its kg are
    unpriced, never silently worth zero. The pool's kg come from
    batch_day_totals through ix_batch_day_totals_pool; its income from
    pool_income by pool.
    """
    rate = ("CASE WHEN k.{g}_kg > 0 AND coalesce(i.{g}, 0) <> 0 "
            "THEN i.{g}::numeric(60, 40) / k.{g}_kg END AS {g}_rate")
    return f"""
pool_rates AS (
    SELECT p.id AS pool_id, p.code AS pool_code,
           {rate.format(g="class1")},
           {rate.format(g="class2")},
           {rate.format(g="class3")}
    FROM pools p
    CROSS JOIN LATERAL (
        SELECT sum(pk.class1_kg) AS class1_kg, sum(pk.class2_kg) AS class2_kg, sum(pk.class3_kg) AS class3_kg
        FROM batch_day_totals pk
        -- pool_id <> 0 is the partial index's own predicate: without it the planner cannot use the index.
        WHERE pk.pool_id = p.id AND pk.pool_id <> 0 AND NOT pk.rejected
    ) k
    CROSS JOIN LATERAL (
        SELECT sum(inc.amount) FILTER (WHERE inc.grade = 'class1') AS class1,
               sum(inc.amount) FILTER (WHERE inc.grade = 'class2') AS class2,
               sum(inc.amount) FILTER (WHERE inc.grade = 'class3') AS class3
        FROM pool_income inc
        WHERE inc.pool_id = p.id
    ) i
    WHERE p.status = 'closed' AND EXISTS (
        SELECT FROM batch_day_totals pt WHERE pt.pool_id = p.id AND pt.pool_id <> 0 AND {which})
)"""


def _valued(picked):
    """CTEs picked, priced, flagged_prices and valued over `picked`, the SELECT of the rows to value.

    `picked` yields per row: grower_id, fruit_type, variety, day (local),
    pool_id (its closed pool, 0 for none), rejected, batch_count, net_kg,
    packed_kg and the kg each grade must be priced for (0 when none).
    `priced` adds the price used per grade and `valued_in_pool`: the pool
    when its rates value the row (a closed pool in pool_rates), else 0 and
    the price agreements do. A pooled row has no ungraded price: before its
    pack-out it is unpriced. `valued` adds unpriced and value (unrounded;
    NULL when unpriced, 0 when rejected). Needs day_prices and pool_rates
    CTEs before it.
    """
    def price(grade):
        agreed = f"coalesce(own.{grade}, anyv.{grade})"
        pooled = "NULL::numeric" if grade == "ungraded" else f"pr.{grade}_rate"
        return f"CASE WHEN pr.pool_id IS NULL THEN {agreed} ELSE {pooled} END AS {grade}_price"

    return f"""
picked AS ({picked}),
priced AS (
    SELECT p.*,
           coalesce(pr.pool_id, 0) AS valued_in_pool,
           pr.pool_code,
           {price("ungraded")},
           {price("class1")},
           {price("class2")},
           {price("class3")}
    FROM picked p
    LEFT JOIN pool_rates pr ON pr.pool_id = p.pool_id
    LEFT JOIN day_prices own
      ON own.day = p.day AND own.fruit_type = p.fruit_type AND own.variety = p.variety
    LEFT JOIN day_prices anyv
      ON anyv.day = p.day AND anyv.fruit_type = p.fruit_type AND anyv.variety = ''
),
flagged_prices AS (
    SELECT pr.*,
           (pr.ungraded_kg > 0 AND pr.ungraded_price IS NULL)
           OR (pr.class1_kg > 0 AND pr.class1_price IS NULL)
           OR (pr.class2_kg > 0 AND pr.class2_price IS NULL)
           OR (pr.class3_kg > 0 AND pr.class3_price IS NULL) AS unpriced
    FROM priced pr
),
valued AS (
    SELECT fp.*,
           CASE WHEN NOT fp.unpriced THEN
                coalesce(fp.ungraded_kg * fp.ungraded_price, 0)
              + coalesce(fp.class1_kg * fp.class1_price, 0)
              + coalesce(fp.class2_kg * fp.class2_price, 0)
              + coalesce(fp.class3_kg * fp.class3_price, 0)
           END AS value
    FROM flagged_prices fp
)"""


def valued_batches(where, columns=""):
    """The valuation CTEs (see _valued) with one row per batch matching `where` (batches b), plus `columns`."""
    return _valued(f"""
    SELECT b.grower_id, b.fruit_type, b.variety,{columns}
           (b.intake_date AT TIME ZONE %(tz)s)::date AS day,
           coalesce(pb.pool_id, 0) AS pool_id,
           b.status = 'rejected' AS rejected,
           1 AS batch_count,
           b.net_weight_kg AS net_kg,
           coalesce(b.class1_kg, 0) + coalesce(b.class2_kg, 0) + coalesce(b.class3_kg, 0) AS packed_kg,
           CASE WHEN b.status <> 'rejected' AND b.class1_kg IS NULL THEN b.net_weight_kg ELSE 0 END AS ungraded_kg,
           CASE WHEN b.status <> 'rejected' THEN coalesce(b.class1_kg, 0) ELSE 0 END AS class1_kg,
           CASE WHEN b.status <> 'rejected' THEN coalesce(b.class2_kg, 0) ELSE 0 END AS class2_kg,
           CASE WHEN b.status <> 'rejected' THEN coalesce(b.class3_kg, 0) ELSE 0 END AS class3_kg
    FROM batches b
    LEFT JOIN pool_batches pb ON pb.batch_id = b.id
    WHERE {where}
""")


def valued_day_totals(where):
    """The valuation CTEs (see _valued) with one row per batch_day_totals row matching `where` (t).

    Such a row is the sum of batches that need the same prices (the same
    day, fruit, variety and pack-out shape), so its kg times those prices is
    the sum of their values, and when it is unpriced all its batches are.
    """
    return _valued(f"""
    SELECT t.grower_id, t.fruit_type, t.variety, t.day, t.pool_id, t.rejected,
           t.batches AS batch_count,
           t.net_kg,
           t.class1_kg + t.class2_kg + t.class3_kg AS packed_kg,
           CASE WHEN NOT t.rejected AND NOT t.graded THEN t.net_kg ELSE 0 END AS ungraded_kg,
           CASE WHEN NOT t.rejected THEN t.class1_kg ELSE 0 END AS class1_kg,
           CASE WHEN NOT t.rejected THEN t.class2_kg ELSE 0 END AS class2_kg,
           CASE WHEN NOT t.rejected THEN t.class3_kg ELSE 0 END AS class3_kg
    FROM batch_day_totals t
    WHERE {where}
""")


PERIOD_BATCHES = (
    "b.intake_date >= " + PERIOD_START + " AND b.intake_date < " + PERIOD_END
)

# --- the report -----------------------------------------------------------------------

# One row per grower with activity in the period (a page of them), then one 'totals' row over all of them.
# {order_by} is filled from a whitelist (report.ORDERINGS) before execution.
REPORT = (
    "WITH"
    + day_prices("%(date_from)s::date", "%(date_to)s::date")
    + ","
    + pool_rates("pt.day BETWEEN %(date_from)s::date AND %(date_to)s::date")
    + ","
    + valued_day_totals("""t.day BETWEEN %(date_from)s::date AND %(date_to)s::date
      AND (%(grower)s::bigint IS NULL OR t.grower_id = %(grower)s::bigint)
      AND (%(packhouse)s::bigint IS NULL OR t.packhouse_id = %(packhouse)s::bigint)
      AND (%(fruit_type)s::text IS NULL OR t.fruit_type = %(fruit_type)s::text)""")
    + """,
grower_pool_totals AS (
    SELECT grower_id, valued_in_pool,
           coalesce(sum(batch_count) FILTER (WHERE NOT rejected), 0) AS batches,
           coalesce(sum(batch_count) FILTER (WHERE rejected), 0) AS rejected_batches,
           coalesce(sum(batch_count) FILTER (WHERE unpriced), 0) AS unpriced_batches,
           coalesce(sum(net_kg) FILTER (WHERE NOT rejected), 0) AS net_kg,
           coalesce(sum(packed_kg) FILTER (WHERE NOT rejected), 0) AS packed_kg,
           coalesce(sum(value), 0) AS value
    FROM valued
    GROUP BY grower_id, valued_in_pool
),
batch_totals AS (
    -- Rounded to cents once per grower over the agreement-priced rows (as ever), and once per grower and
    -- closed pool over the pool-valued ones: the pool's part is then its settlement gross (pools.settlement).
    SELECT grower_id,
           sum(batches)::bigint AS batches, sum(rejected_batches)::bigint AS rejected_batches,
           sum(unpriced_batches)::bigint AS unpriced_batches, sum(net_kg) AS net_kg, sum(packed_kg) AS packed_kg,
           round(coalesce(sum(value) FILTER (WHERE valued_in_pool = 0), 0), 2)
           + coalesce(sum(round(value, 2)) FILTER (WHERE valued_in_pool <> 0), 0) AS value
    FROM grower_pool_totals
    GROUP BY grower_id
),
payment_totals AS (
    SELECT gp.grower_id,
           coalesce(sum(gp.amount) FILTER (WHERE gp.payment_type = 'advance'), 0) AS paid_advance,
           coalesce(sum(gp.amount) FILTER (WHERE gp.payment_type = 'final'), 0) AS paid_final,
           coalesce(sum(gp.amount) FILTER (WHERE gp.payment_type = 'deduction'), 0) AS paid_deduction,
           coalesce(sum(gp.amount) FILTER (WHERE gp.payment_type = 'adjustment'), 0) AS paid_adjustment,
           sum(gp.amount) AS total_paid
    FROM grower_payments gp
    WHERE gp.paid_date >= %(date_from)s::date
      AND gp.paid_date <= %(date_to)s::date
      AND (%(grower)s::bigint IS NULL OR gp.grower_id = %(grower)s::bigint)
    GROUP BY gp.grower_id
),
joined AS (
    -- A grower with payments but no batches appears, unless the packhouse or fruit filter
    -- narrows the batches: payments belong to neither, so then only growers with batches do.
    SELECT g.id AS grower_id, g.code AS grower_code, g.name AS grower_name,
           coalesce(bt.batches, 0) AS batches,
           coalesce(bt.rejected_batches, 0) AS rejected_batches,
           coalesce(bt.unpriced_batches, 0) AS unpriced_batches,
           coalesce(bt.net_kg, 0) AS net_kg,
           coalesce(bt.packed_kg, 0) AS packed_kg,
           round(coalesce(bt.value, 0), 2) AS expected_value,
           coalesce(pt.paid_advance, 0) AS paid_advance,
           coalesce(pt.paid_final, 0) AS paid_final,
           coalesce(pt.paid_deduction, 0) AS paid_deduction,
           coalesce(pt.paid_adjustment, 0) AS paid_adjustment,
           coalesce(pt.total_paid, 0) AS total_paid
    FROM batch_totals bt
    FULL JOIN payment_totals pt ON pt.grower_id = bt.grower_id
    JOIN growers g ON g.id = coalesce(bt.grower_id, pt.grower_id)
    WHERE bt.grower_id IS NOT NULL OR (%(packhouse)s::bigint IS NULL AND %(fruit_type)s::text IS NULL)
),
balanced AS (
    SELECT j.*,
           j.expected_value - j.total_paid AS balance,
           CASE WHEN j.expected_value <> 0
                THEN round((j.expected_value - j.total_paid) * 100 / j.expected_value, 2) END AS variance_percent
    FROM joined j
),
report AS (
    -- Flagged: |balance| over the amount, or |variance| over the percentage, compared as shown
    -- (cents, two decimals). A balance against no expected value exceeds any percentage.
    SELECT bl.*,
           coalesce(abs(bl.balance) > %(threshold_amount)s::numeric, false)
           OR (bl.balance <> 0 AND %(threshold_percent)s::numeric IS NOT NULL
               AND (bl.variance_percent IS NULL OR abs(bl.variance_percent) > %(threshold_percent)s::numeric))
           AS flagged
    FROM balanced bl
),
shown AS (
    SELECT * FROM report WHERE %(flagged)s::boolean IS NULL OR flagged = %(flagged)s::boolean
),
page AS (
    SELECT * FROM shown ORDER BY {order_by} LIMIT %(limit)s OFFSET %(offset)s
)
SELECT 'row' AS kind, grower_id, grower_code, grower_name,
       batches, rejected_batches, unpriced_batches, net_kg, packed_kg, expected_value,
       paid_advance, paid_final, paid_deduction, paid_adjustment, total_paid,
       balance, variance_percent, flagged, NULL::bigint AS growers, NULL::bigint AS flagged_growers
FROM page
UNION ALL
SELECT 'totals', NULL, NULL, NULL,
       coalesce(sum(batches), 0)::bigint, coalesce(sum(rejected_batches), 0)::bigint,
       coalesce(sum(unpriced_batches), 0)::bigint,
       coalesce(sum(net_kg), 0), coalesce(sum(packed_kg), 0), coalesce(sum(expected_value), 0),
       coalesce(sum(paid_advance), 0), coalesce(sum(paid_final), 0), coalesce(sum(paid_deduction), 0),
       coalesce(sum(paid_adjustment), 0), coalesce(sum(total_paid), 0), coalesce(sum(balance), 0),
       CASE WHEN sum(expected_value) <> 0 THEN round(sum(balance) * 100 / sum(expected_value), 2) END,
       NULL, count(*), count(*) FILTER (WHERE flagged)
FROM shown
"""
)

# --- the grower statement -------------------------------------------------------------

# The grower's first local intake day: where the opening's prices must start.
_FIRST_DAY = (
    "coalesce((SELECT (min(b0.intake_date) AT TIME ZONE %(tz)s)::date FROM batches b0 "
    "WHERE b0.grower_id = %(grower)s), %(date_from)s::date)"
)

# What the grower was owed before the period: value of earlier batches minus earlier payments. The value comes
# in two parts: the agreement-priced batches' (unrounded) and the pool-valued ones' (rounded per pool).
STATEMENT_OPENING = (
    "WITH"
    + day_prices(_FIRST_DAY, "%(date_from)s::date - 1")
    + ","
    + pool_rates("pt.grower_id = %(grower)s")
    + ","
    + valued_batches("b.grower_id = %(grower)s AND b.intake_date < " + PERIOD_START)
    + """
SELECT (SELECT coalesce(sum(value), 0) FROM valued WHERE valued_in_pool = 0) AS value,
       (SELECT coalesce(sum(pool_value), 0)
          FROM (SELECT round(sum(value), 2) AS pool_value FROM valued WHERE valued_in_pool <> 0
                GROUP BY valued_in_pool) per_pool) AS pool_value,
       (SELECT count(*) FILTER (WHERE unpriced) FROM valued) AS unpriced_batches,
       (SELECT coalesce(sum(gp.amount), 0) FROM grower_payments gp
         WHERE gp.grower_id = %(grower)s AND gp.paid_date < %(date_from)s::date) AS paid
"""
)

# The period's batches of one grower, each with its prices and value.
STATEMENT_BATCHES = (
    "WITH"
    + day_prices("%(date_from)s::date", "%(date_to)s::date")
    + ","
    + pool_rates("pt.grower_id = %(grower)s")
    + ","
    + valued_batches(
        "b.grower_id = %(grower)s AND " + PERIOD_BATCHES,
        columns="""
           b.id AS batch_id, b.batch_code, b.intake_date, b.status, b.packhouse_id,
           b.class1_kg AS packout_class1_kg, b.class2_kg AS packout_class2_kg,
           b.class3_kg AS packout_class3_kg, b.waste_kg,""",
    )
    + """
SELECT v.batch_id, v.batch_code, v.intake_date, v.day, ph.code AS packhouse_code, v.fruit_type, v.variety,
       v.status, v.net_kg AS net_weight_kg, v.packout_class1_kg, v.packout_class2_kg, v.packout_class3_kg,
       v.waste_kg, v.ungraded_kg, v.class1_kg, v.class2_kg, v.class3_kg,
       v.ungraded_price, v.class1_price, v.class2_price, v.class3_price, v.unpriced, v.value,
       v.valued_in_pool AS pool_id, v.pool_code
FROM valued v
JOIN packhouses ph ON ph.id = v.packhouse_id
ORDER BY v.intake_date, v.batch_id
"""
)

# The grower's balance on each closed pool of the seasons the period touches, over the whole pool (not only the
# period's days): settlement's figures for this one grower. Per pool: the grower's batches, net kg and class kg
# (its batches that are not rejected), the pool's kg and income per grade (the rate's two halves: Python divides
# at settlement's precision), and what was paid against the pool except deductions (settlement.PAID_SQL's rule).
# The grower's rows come through ix_batch_day_totals_grower_day, the pool's kg through ix_batch_day_totals_pool.
STATEMENT_POOL_BALANCES = """
WITH mine AS (
    SELECT t.pool_id, sum(t.batches) AS batches, sum(t.net_kg) AS net_kg,
           sum(t.class1_kg) AS class1_kg, sum(t.class2_kg) AS class2_kg, sum(t.class3_kg) AS class3_kg
    FROM batch_day_totals t
    WHERE t.grower_id = %(grower)s AND t.pool_id <> 0 AND NOT t.rejected
    GROUP BY t.pool_id
),
paid AS (
    SELECT gp.pool_id, sum(gp.amount) FILTER (WHERE gp.payment_type <> 'deduction') AS amount
    FROM grower_payments gp
    WHERE gp.grower_id = %(grower)s AND gp.pool_id IS NOT NULL
    GROUP BY gp.pool_id
),
shown AS (
    SELECT p.id, p.code, p.name
    FROM pools p JOIN seasons s ON s.id = p.season_id
    WHERE p.status = 'closed' AND s.start_date <= %(date_to)s::date AND s.end_date >= %(date_from)s::date
      AND (p.id IN (SELECT pool_id FROM mine) OR p.id IN (SELECT pool_id FROM paid))
)
SELECT sh.id AS pool_id, sh.code AS pool_code, sh.name AS pool_name,
       coalesce(m.batches, 0) AS batches, coalesce(m.net_kg, 0) AS net_kg,
       coalesce(m.class1_kg, 0) AS class1_kg, coalesce(m.class2_kg, 0) AS class2_kg,
       coalesce(m.class3_kg, 0) AS class3_kg,
       k.class1_kg AS pool_class1_kg, k.class2_kg AS pool_class2_kg, k.class3_kg AS pool_class3_kg,
       i.class1 AS class1_income, i.class2 AS class2_income, i.class3 AS class3_income,
       coalesce(pd.amount, 0) AS already_paid
FROM shown sh
LEFT JOIN mine m ON m.pool_id = sh.id
LEFT JOIN paid pd ON pd.pool_id = sh.id
CROSS JOIN LATERAL (
    SELECT coalesce(sum(pk.class1_kg), 0) AS class1_kg, coalesce(sum(pk.class2_kg), 0) AS class2_kg,
           coalesce(sum(pk.class3_kg), 0) AS class3_kg
    FROM batch_day_totals pk
    WHERE pk.pool_id = sh.id AND pk.pool_id <> 0 AND NOT pk.rejected
) k
CROSS JOIN LATERAL (
    SELECT coalesce(sum(inc.amount) FILTER (WHERE inc.grade = 'class1'), 0) AS class1,
           coalesce(sum(inc.amount) FILTER (WHERE inc.grade = 'class2'), 0) AS class2,
           coalesce(sum(inc.amount) FILTER (WHERE inc.grade = 'class3'), 0) AS class3
    FROM pool_income inc
    WHERE inc.pool_id = sh.id
) i
ORDER BY sh.code
"""

# The grower's cartons on pallets and pallet lines' kg with each pallet's total kg, per pool of %(pools)s: the
# per_carton and per_pallet quantities of settlement (pools.settlement.PALLET_SQL), for one grower and many pools.
STATEMENT_POOL_PALLETS = """
WITH members AS (
    SELECT pb.pool_id, b.id
    FROM batches b JOIN pool_batches pb ON pb.batch_id = b.id
    WHERE b.grower_id = %(grower)s AND b.status <> 'rejected' AND pb.pool_id = ANY(%(pools)s)
),
lines AS (
    SELECT m.pool_id, l.pallet_id, sum(l.kg) AS kg, sum(l.cartons) AS cartons
    FROM pallet_lines l JOIN members m ON m.id = l.batch_id
    GROUP BY m.pool_id, l.pallet_id
),
pallet_totals AS (
    SELECT pallet_id, sum(kg) AS kg FROM pallet_lines
    WHERE pallet_id IN (SELECT pallet_id FROM lines)
    GROUP BY pallet_id
)
SELECT lines.pool_id, lines.kg, lines.cartons, pallet_totals.kg
FROM lines JOIN pallet_totals USING (pallet_id)
"""
