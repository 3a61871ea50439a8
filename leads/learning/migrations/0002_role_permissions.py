from django.db import migrations


def sync_groups(apps, schema_editor):
    # Marketing gets learning.*, reps and managers learning.view_* (config/roles.py).
    from config.roles import sync_role_groups

    sync_role_groups(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("leads", "0004_role_permissions_for_intake"),
        ("learning", "0001_learned_models"),
    ]
    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
