from django.db import migrations

from core.migration_ops import append_only


class Migration(migrations.Migration):
    dependencies = [("pools", "0001_initial")]

    operations = [append_only("pool_income"), append_only("pool_batches"), append_only("pool_history")]
