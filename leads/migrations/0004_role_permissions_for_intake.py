from django.db import migrations


def sync_groups(apps, schema_editor):
    # Give the roles the permissions of the models 0003 added (Marketing has "leads.*").
    from config.roles import sync_role_groups

    sync_role_groups(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("leads", "0003_capture_forms_and_imports"),
    ]
    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
