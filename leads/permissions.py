"""API permissions of marketing data: every role may read segments; marketing changes them."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from config.roles import is_manager, is_rep


class SegmentPermission(BasePermission):
    """Reads need ``leads.view_segment`` (all three roles); writes and previews of unsaved
    definitions (which list leads) need ``leads.change_segment`` (marketing)."""

    message = "Only marketing can change segments."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in SAFE_METHODS and getattr(view, "action", None) != "preview":
            return user.has_perm("leads.view_segment")
        return user.has_perm("leads.change_segment") and user.has_perm("leads.add_segment")


class LeadPermission(BasePermission):
    """Every role reads leads (row visibility is the queryset's); creating, upserting and bulk
    creating need ``leads.add_lead`` (marketing); a PATCH needs ``leads.change_lead``
    (marketing, any field) or the sales role (contact fields only, on a lead they can see)."""

    message = "Only marketing can create leads."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            return True
        if getattr(view, "action", None) == "partial_update":
            return user.has_perm("leads.change_lead") or is_rep(user) or is_manager(user)
        return user.has_perm("leads.add_lead") and user.has_perm("leads.change_lead")


class CanRecordEvents(BasePermission):
    message = "Only marketing can record engagement events."

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.has_perm("leads.add_engagementevent")
        )


class CanImportLeads(BasePermission):
    message = "Only marketing can import leads."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("leads.add_lead"))
