# The daily_grower_intake materialized view, in every company's schema.
#
# reconciliation is a tenant app, so this runs in each tenant schema (and in
# the schema of every company made later by create_company); the public
# schema gets nothing. The view turns intake times into the company's local
# days through the one-row table reconciliation_settings, filled here from
# the company and kept in step by every refresh.

from django.conf import settings
from django.db import migrations, models

CREATE_VIEW = """
CREATE MATERIALIZED VIEW daily_grower_intake AS
SELECT (b.intake_date AT TIME ZONE s.time_zone)::date AS day,
       b.grower_id,
       b.packhouse_id,
       b.fruit_type,
       count(*) AS batches,
       sum(b.bin_count)::bigint AS bins,
       sum(b.net_weight_kg) AS net_kg
FROM batches b
CROSS JOIN reconciliation_settings s
GROUP BY 1, 2, 3, 4
WITH DATA
"""
# Unique, so that REFRESH ... CONCURRENTLY works; it also serves day-range reads.
CREATE_UNIQUE_INDEX = (
    "CREATE UNIQUE INDEX ux_daily_grower_intake ON daily_grower_intake (day, grower_id, packhouse_id, fruit_type)"
)
# A grower's days (the grower page, the statement).
CREATE_GROWER_INDEX = "CREATE INDEX ix_daily_grower_intake_grower ON daily_grower_intake (grower_id, day)"


def copy_company_time_zone(apps, schema_editor):
    """The company's zone, read from its row in the public schema (on the search path while migrating)."""
    connection = schema_editor.connection
    time_zone = getattr(connection.tenant, "time_zone", None)
    if not time_zone:
        Company = apps.get_model("tenants", "Company")
        time_zone = (
            Company.objects.using(connection.alias)
            .filter(schema_name=connection.schema_name)
            .values_list("time_zone", flat=True)
            .first()
        )
    LocalTimeZone = apps.get_model("reconciliation", "LocalTimeZone")
    LocalTimeZone.objects.using(connection.alias).update_or_create(
        id=1, defaults={"time_zone": time_zone or settings.DEFAULT_TIME_ZONE},
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("tenants", "0001_initial"),
        ("batches", "0003_batch_history_no_single_batch_index"),
        ("growers", "0002_alter_grower_growers_ggn_unique"),
        ("packhouses", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyGrowerIntake',
            fields=[
                ('pk', models.CompositePrimaryKey('day', 'grower', 'packhouse', 'fruit_type', blank=True, editable=False, primary_key=True, serialize=False)),
                ('day', models.DateField(help_text="The company's local date of intake.")),
                ('fruit_type', models.CharField(choices=[('apple', 'Apple'), ('pear', 'Pear'), ('citrus', 'Citrus'), ('stone_fruit', 'Stone fruit'), ('grape', 'Grape'), ('avocado', 'Avocado'), ('kiwifruit', 'Kiwifruit')], max_length=20)),
                ('batches', models.BigIntegerField()),
                ('bins', models.BigIntegerField()),
                ('net_kg', models.DecimalField(decimal_places=2, max_digits=16)),
            ],
            options={
                'verbose_name_plural': 'daily grower intake',
                'db_table': 'daily_grower_intake',
                'ordering': ['-day', 'grower', 'packhouse', 'fruit_type'],
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='Reconciliation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
            options={
                'verbose_name': 'reconciliation report',
                'managed': False,
                'default_permissions': ('view',),
            },
        ),
        migrations.CreateModel(
            name='LocalTimeZone',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('time_zone', models.CharField(max_length=64)),
            ],
            options={
                'db_table': 'reconciliation_settings',
                'default_permissions': (),
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='reconciliation_settings_one_row')],
            },
        ),
        migrations.RunPython(copy_company_time_zone, migrations.RunPython.noop),
        migrations.RunSQL(
            sql=[CREATE_VIEW, CREATE_UNIQUE_INDEX, CREATE_GROWER_INDEX],
            reverse_sql=["DROP MATERIALIZED VIEW IF EXISTS daily_grower_intake"],
        ),
    ]
