"""The funnel rollup models move from crm to reports: state only, the tables (crm_funnelrollup,
crm_reportrolluprun) and their rows stay. Their content types (and so any granted permissions)
move with them, managers get `reports.view_*`; the old beat entry's row is dropped (beat
recreates it under its new name)."""

from django.db import migrations, models

MODELS = ("funnelrollup", "reportrolluprun")


def move_content_types(apps, schema_editor, old="crm", new="reports"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, old="reports", new="crm")


def drop_old_beat_entry(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.using(schema_editor.connection.alias).filter(name="crm-funnel-rollup").delete()


def grant_roles(apps, schema_editor):
    from config.roles import sync_role_groups

    sync_role_groups(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("crm", "0005_report_rollups"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReportRollupRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=40, unique=True)),
                        ("refreshed_at", models.DateTimeField()),
                        ("time_zone", models.CharField(max_length=64)),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                    ],
                    options={"db_table": "crm_reportrolluprun"},
                ),
                migrations.CreateModel(
                    name="FunnelRollup",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("day", models.DateField()),
                        ("source", models.CharField(max_length=20)),
                        ("furthest", models.PositiveSmallIntegerField()),
                        ("leads", models.PositiveIntegerField()),
                    ],
                    options={
                        "db_table": "crm_funnelrollup",
                        "constraints": [
                            models.UniqueConstraint(fields=("day", "source", "furthest"), name="funnel_rollup_unique")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
        migrations.RunPython(drop_old_beat_entry, migrations.RunPython.noop),
        migrations.RunPython(grant_roles, migrations.RunPython.noop),
    ]
