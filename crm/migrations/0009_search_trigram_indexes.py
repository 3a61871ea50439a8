from django.db import migrations

# PostgreSQL only (SQLite has no GIN; the header search falls back to LIKE there): trigram GIN
# indexes for the header search's substring and typo matches on contacts, accounts and deals
# (crm/search.py writes its conditions with exactly these expressions).
SEARCH_INDEXES = {
    "contact_name_trgm_idx": "crm_contact USING gin (lower(first_name || ' ' || last_name) gin_trgm_ops)",
    "contact_email_trgm_idx": "crm_contact USING gin (lower(email) gin_trgm_ops)",
    "contact_phone_trgm_idx": (
        "crm_contact USING gin ((replace(replace(replace(replace(replace(replace(replace("
        "phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', ''), '/', '')) gin_trgm_ops)"
    ),
    "account_name_trgm_idx": "crm_account USING gin (lower(name) gin_trgm_ops)",
    "account_domain_trgm_idx": "crm_account USING gin (lower(domain) gin_trgm_ops)",
    "deal_name_trgm_idx": "crm_deal USING gin (lower(name) gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, body in SEARCH_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {body}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0008_sla_breach_plural")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
