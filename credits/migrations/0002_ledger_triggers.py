"""Database-level guards for the ledger that check constraints cannot express.

- A refund must reverse the deduction of the same generation, for exactly its amount.
- On PostgreSQL, ledger rows can be neither updated nor deleted (TRUNCATE, used by test
  teardown, is not affected).
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION credits_refund_matches_deduction() RETURNS trigger AS $$
BEGIN
    IF NEW.type = 'refund' AND NOT EXISTS (
        SELECT 1 FROM credits_credittransaction d
        WHERE d.generation_id = NEW.generation_id AND d.type = 'deduction'
          AND d.amount = -NEW.amount AND d.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'refund of % for generation % does not match its deduction',
            NEW.amount, NEW.generation_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER credits_refund_matches_deduction
    BEFORE INSERT ON credits_credittransaction
    FOR EACH ROW EXECUTE FUNCTION credits_refund_matches_deduction();

CREATE FUNCTION credits_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the credit ledger is append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER credits_ledger_append_only
    BEFORE UPDATE OR DELETE ON credits_credittransaction
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_append_only();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER credits_ledger_append_only ON credits_credittransaction;
DROP FUNCTION credits_ledger_append_only();
DROP TRIGGER credits_refund_matches_deduction ON credits_credittransaction;
DROP FUNCTION credits_refund_matches_deduction();
"""

SQLITE_FORWARD = """
CREATE TRIGGER credits_refund_matches_deduction
BEFORE INSERT ON credits_credittransaction
WHEN NEW.type = 'refund' AND NOT EXISTS (
    SELECT 1 FROM credits_credittransaction d
    WHERE d.generation_id = NEW.generation_id AND d.type = 'deduction'
      AND d.amount = -NEW.amount AND d.user_id = NEW.user_id
)
BEGIN
    SELECT RAISE(ABORT, 'refund does not match its deduction');
END;
"""

SQLITE_BACKWARD = "DROP TRIGGER credits_refund_matches_deduction;"


def forward(apps, schema_editor):
    sql = {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    sql = {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(
        schema_editor.connection.vendor
    )
    if sql:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
