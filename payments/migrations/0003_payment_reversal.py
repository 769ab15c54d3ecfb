"""Reversals: a payment names the payment it undoes, at most once.

The trigger checks what a CHECK cannot (it reads another row): a reversal undoes a payment that is not
itself a reversal, for the same grower, by exactly the opposite amount. The service checks the same
with messages; this is the backstop for any other writer.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

REVERSAL_CHECK = """
CREATE OR REPLACE FUNCTION grower_payments_reversal_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    original grower_payments%ROWTYPE;
BEGIN
    IF NEW.reverses_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT * INTO original FROM grower_payments WHERE id = NEW.reverses_id;
    IF FOUND AND original.reverses_id IS NOT NULL THEN
        RAISE EXCEPTION 'payment % is a reversal and cannot be reversed', original.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grower_payments_reversal_matches';
    END IF;
    IF FOUND AND (NEW.amount <> -original.amount OR NEW.grower_id <> original.grower_id) THEN
        RAISE EXCEPTION 'a reversal of payment % is % to grower %', original.id, -original.amount, original.grower_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grower_payments_reversal_matches';
    END IF;
    RETURN NEW;  -- an unknown reverses_id is the foreign key's to refuse
END
$$;
CREATE TRIGGER grower_payments_reversal_check BEFORE INSERT ON grower_payments
FOR EACH ROW WHEN (NEW.reverses_id IS NOT NULL) EXECUTE FUNCTION grower_payments_reversal_check();
"""
DROP_REVERSAL_CHECK = """
DROP TRIGGER IF EXISTS grower_payments_reversal_check ON grower_payments;
DROP FUNCTION IF EXISTS grower_payments_reversal_check();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('growers', '0003_farms_blocks_clearances'),
        ('payments', '0002_grower_payments_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='growerpayment',
            name='reverses',
            field=models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='payments.growerpayment'),
        ),
        migrations.AddConstraint(
            model_name='growerpayment',
            constraint=models.CheckConstraint(condition=models.Q(('reverses__isnull', True), ('payment_type', 'adjustment'), _connector='OR'), name='grower_payments_reversal_is_adjustment', violation_error_message='A reversal is an adjustment.'),
        ),
        migrations.RunSQL(REVERSAL_CHECK, reverse_sql=DROP_REVERSAL_CHECK),
    ]
