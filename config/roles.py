"""The three roles are Django groups; these helpers keep their names in one place."""

from django.contrib.auth.models import AbstractBaseUser

MARKETING = "Marketing"
SALES_REP = "Sales rep"
SALES_MANAGER = "Sales manager"
ALL_ROLES = (MARKETING, SALES_REP, SALES_MANAGER)


def user_roles(user: AbstractBaseUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_baton_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached = cached | {SALES_MANAGER, MARKETING}
        user._baton_roles = cached
    return cached


def is_rep(user) -> bool:
    return SALES_REP in user_roles(user)


def is_manager(user) -> bool:
    return SALES_MANAGER in user_roles(user)


def is_marketer(user) -> bool:
    return MARKETING in user_roles(user)


def sees_all_sales_data(user) -> bool:
    """Managers see every rep's records; a rep only their own."""
    return is_manager(user)


# codename patterns per role: "app.*" = every permission of the app, "app.view_*" = every
# view permission, otherwise an exact "app.codename".
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    MARKETING: (
        "leads.*",
        "learning.*",
        "campaigns.*",
        "crm.view_salesqueue",
        "crm.view_reports",
    ),
    SALES_REP: (
        "leads.view_lead",
        "learning.view_*",
        "leads.view_segment",
        "leads.view_segmentversion",
        "leads.view_engagementevent",
        "leads.view_leadtransition",
        "campaigns.view_campaign",
        "campaigns.view_collateral",
        "campaigns.view_collateralversion",
        "campaigns.add_collateralshare",
        "campaigns.view_collateralshare",
        "campaigns.add_customerfeedback",
        "campaigns.view_customerfeedback",
        "crm.view_salesqueue",
        "crm.view_assignment",
        "crm.change_assignment",
        "crm.add_call",
        "crm.change_call",
        "crm.view_call",
        "crm.add_followup",
        "crm.change_followup",
        "crm.view_followup",
        "crm.add_objectionnote",
        "crm.change_objectionnote",
        "crm.view_objectionnote",
        "crm.add_deal",
        "crm.change_deal",
        "crm.view_deal",
        "crm.view_dealstagechange",
        "crm.add_account",
        "crm.change_account",
        "crm.view_account",
        "crm.add_contact",
        "crm.change_contact",
        "crm.view_contact",
        "crm.view_notification",
        "crm.change_notification",
    ),
    SALES_MANAGER: (
        "crm.*",
        "reports.view_*",
        "leads.view_*",
        "learning.view_*",
        "campaigns.view_*",
        "campaigns.add_customerfeedback",
    ),
}


def sync_role_groups(apps, using: str = "default") -> None:
    """Create the three groups and give each exactly the permissions ROLE_PERMISSIONS names.

    Called from data migrations with historical models; safe to run again after new models
    (it creates missing permissions first and replaces each group's set).
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Historical app configs (in migrations) have no models module; create_permissions
        # skips such apps unless told otherwise.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0, using=using)
        finally:
            app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    all_perms = list(Permission.objects.using(using).select_related("content_type"))
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        chosen = []
        for perm in all_perms:
            label = perm.content_type.app_label
            for pattern in patterns:
                app, _, codename = pattern.partition(".")
                if app != label:
                    continue
                if (
                    codename == "*"
                    or codename == perm.codename
                    or (codename.endswith("*") and perm.codename.startswith(codename[:-1]))
                ):
                    chosen.append(perm)
                    break
        group.permissions.set(chosen)
