"""Existing batches get a block and a season (DESIGN.md, "Seasons, farms and blocks").

Every grower with batches gets one farm, `<grower code>-U` "Unassigned", with a
block per (fruit type, variety) it delivered (U01, U02, ...). Every calendar
year that holds a batch's local intake date, and the current one, becomes a
season (code "2026", 1 Jan to 31 Dec). Managers may rename them, move batches
to real blocks through corrections, and add real farms beside them.

Reversible: backwards, the batches lose their block and season again and the
Unassigned farms and their blocks go; the seasons stay, since clearances or a
manager's edits may already hang off them, and they are harmless to the old code.
"""

from django.conf import settings
from django.db import migrations

ASSIGN = """
WITH tz AS (
    SELECT coalesce((SELECT time_zone FROM public.tenants_company WHERE schema_name = current_schema()), %(tz)s) AS name
), years AS (
    SELECT DISTINCT extract(year FROM intake_date AT TIME ZONE (SELECT name FROM tz))::int AS year FROM batches
    UNION SELECT extract(year FROM now() AT TIME ZONE (SELECT name FROM tz))::int
)
INSERT INTO seasons (code, name, start_date, end_date, created_at, updated_at)
SELECT year::text, 'Season ' || year, make_date(year, 1, 1), make_date(year, 12, 31), now(), now()
FROM years
WHERE NOT EXISTS (
    SELECT 1 FROM seasons s WHERE s.start_date <= make_date(year, 12, 31) AND s.end_date >= make_date(year, 1, 1)
);

INSERT INTO farms (grower_id, code, name, puc, ggn, region, active, created_at, updated_at)
SELECT g.id, g.code || '-U', 'Unassigned', '', '', g.region, true, now(), now()
FROM growers g
WHERE EXISTS (SELECT 1 FROM batches b WHERE b.grower_id = g.id AND b.block_id IS NULL)
ON CONFLICT (code) DO NOTHING;

INSERT INTO blocks (farm_id, code, fruit_type, variety, active, created_at, updated_at)
SELECT f.id, 'U' || lpad((row_number() OVER (PARTITION BY f.id ORDER BY used.fruit_type, used.variety))::text, 2, '0'),
       used.fruit_type, used.variety, true, now(), now()
FROM (SELECT DISTINCT grower_id, fruit_type, coalesce(nullif(variety, ''), 'Unspecified') AS variety
      FROM batches WHERE block_id IS NULL) used
JOIN growers g ON g.id = used.grower_id
JOIN farms f ON f.code = g.code || '-U';

UPDATE batches b SET block_id = bl.id
FROM blocks bl JOIN farms f ON f.id = bl.farm_id JOIN growers g ON g.id = f.grower_id
WHERE b.block_id IS NULL AND f.code = g.code || '-U' AND g.id = b.grower_id
  AND bl.fruit_type = b.fruit_type AND bl.variety = coalesce(nullif(b.variety, ''), 'Unspecified');

UPDATE batches b SET season_id = s.id
FROM seasons s
WHERE b.season_id IS NULL
  AND (b.intake_date AT TIME ZONE coalesce(
        (SELECT time_zone FROM public.tenants_company WHERE schema_name = current_schema()), %(tz)s
      ))::date BETWEEN s.start_date AND s.end_date;
"""

UNASSIGN = """
UPDATE batches SET block_id = NULL, season_id = NULL WHERE block_id IS NOT NULL OR season_id IS NOT NULL;
DELETE FROM blocks WHERE farm_id IN (SELECT id FROM farms WHERE name = 'Unassigned' AND code LIKE '%%-U')
  AND id NOT IN (SELECT block_id FROM spray_clearances);
DELETE FROM farms WHERE name = 'Unassigned' AND code LIKE '%%-U' AND id NOT IN (SELECT farm_id FROM blocks);
"""


def assign(apps, schema_editor):
    schema_editor.execute(ASSIGN, params={"tz": settings.DEFAULT_TIME_ZONE})


def unassign(apps, schema_editor):
    schema_editor.execute(UNASSIGN)


class Migration(migrations.Migration):
    dependencies = [("batches", "0005_traceability")]

    operations = [migrations.RunPython(assign, unassign)]
