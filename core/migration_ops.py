"""Migration operations shared by the domain apps."""

from django.db import migrations

REFUSE_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION fruitpak_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
"""


def append_only(table):
    """The database itself refuses UPDATE and DELETE on `table` (TRUNCATE stays possible for restores)."""
    trigger = f"{table}_append_only"
    return migrations.RunSQL(
        sql=[
            REFUSE_CHANGE_FUNCTION,
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION fruitpak_refuse_change()",
        ],
        reverse_sql=[f"DROP TRIGGER IF EXISTS {trigger} ON {table}"],
    )
