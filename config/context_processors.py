from django.conf import settings

from config.roles import user_roles


def demo(request):
    """``demo``: this is the demo (`make run`'s seeded data); pages may say how to log in."""
    return {"demo": settings.BATON_DEMO}


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": frozenset()}
    return {"roles": user_roles(user)}
