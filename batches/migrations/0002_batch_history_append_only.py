from django.db import migrations

from core.migration_ops import append_only


class Migration(migrations.Migration):
    dependencies = [("batches", "0001_initial")]

    operations = [append_only("batch_history")]
