"""QC inspections are records of what was seen: never changed. A defect count never exceeds its sample."""

from django.db import migrations

from core.migration_ops import append_only

DEFECT_WITHIN_SAMPLE = """
CREATE OR REPLACE FUNCTION qc_defect_within_sample() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.count > (SELECT sample_size FROM qc_inspections WHERE id = NEW.inspection_id) THEN
        RAISE EXCEPTION 'qc_defects: count % exceeds the sample size', NEW.count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'qc_defects_count_within_sample';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER qc_defects_count_within_sample BEFORE INSERT ON qc_defects
FOR EACH ROW EXECUTE FUNCTION qc_defect_within_sample();
"""


class Migration(migrations.Migration):
    dependencies = [("batches", "0006_blocks_and_seasons_for_existing_batches")]

    operations = [
        append_only("qc_inspections"),
        append_only("qc_defects"),
        migrations.RunSQL(
            DEFECT_WITHIN_SAMPLE,
            reverse_sql="DROP TRIGGER IF EXISTS qc_defects_count_within_sample ON qc_defects; "
                        "DROP FUNCTION IF EXISTS qc_defect_within_sample();",
        ),
    ]
