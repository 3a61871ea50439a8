"""FunnelRollup and ReportRollupRun now belong to the reports app (reports 0001): state only,
the tables stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_report_rollups"),
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="FunnelRollup"),
                migrations.DeleteModel(name="ReportRollupRun"),
            ],
            database_operations=[],
        ),
    ]
