from django.contrib import admin

from .models import (
    Account,
    Assignment,
    Call,
    Contact,
    Deal,
    DealStageChange,
    EmailOutbox,
    FollowUp,
    HandoffRefusal,
    Notification,
    ObjectionNote,
    QueueMembership,
    SalesQueue,
    SlaBreach,
)


class QueueMembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 0
    raw_id_fields = ["rep"]
    fields = ["rep", "capacity", "is_active", "away_until", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]


@admin.register(SalesQueue)
class SalesQueueAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "segment", "strategy", "sla_minutes", "sla_action", "manager", "is_active"]
    list_filter = ["strategy", "sla_action", "is_active"]
    search_fields = ["name"]
    list_select_related = ["segment", "manager"]
    inlines = [QueueMembershipInline]


@admin.register(QueueMembership)
class QueueMembershipAdmin(admin.ModelAdmin):
    list_display = ["queue", "rep", "capacity", "is_active", "away_until", "last_assigned_at"]
    list_filter = ["queue", "is_active"]
    search_fields = ["rep__username", "queue__name"]
    list_select_related = ["queue", "rep"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = [
        "lead",
        "queue",
        "rep",
        "status",
        "handed_off_at",
        "sla_due_at",
        "first_touch_at",
        "accepted_at",
        "rejected_reason",
    ]
    list_filter = ["status", "queue", "rejected_reason"]
    search_fields = ["lead__email", "rep__username"]
    list_select_related = ["lead", "queue", "rep"]
    raw_id_fields = ["lead", "rep", "previous"]
    date_hierarchy = "handed_off_at"
    show_full_result_count = False


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    list_display = ["assignment", "breached_at", "action", "new_assignment", "escalated_to"]
    list_filter = ["action"]
    list_select_related = [
        "assignment__lead",
        "assignment__rep",
        "assignment__queue",
        "new_assignment__lead",
        "new_assignment__rep",
        "new_assignment__queue",
        "escalated_to",
    ]
    raw_id_fields = ["assignment", "new_assignment", "escalated_to"]


@admin.register(HandoffRefusal)
class HandoffRefusalAdmin(admin.ModelAdmin):
    list_display = ["lead", "reason", "at"]
    list_filter = ["reason"]
    search_fields = ["lead__email"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
    date_hierarchy = "at"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "message", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["message", "user__username"]
    list_select_related = ["user"]


@admin.register(EmailOutbox)
class EmailOutboxAdmin(admin.ModelAdmin):
    """Notification e-mails: sent ones have "sent at"; an unsent one with attempts left is retried
    by the resend job at "next attempt at"; one out of attempts shows its last error."""

    list_display = ["to_email", "subject", "created_at", "sent_at", "attempts", "next_attempt_at"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to_email", "subject"]
    raw_id_fields = ["notification"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    raw_id_fields = ["lead"]
    fields = ["first_name", "last_name", "email", "phone", "title", "lead"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "industry", "owner", "is_customer", "next_check_in_on"]
    list_filter = ["is_customer", "industry"]
    search_fields = ["name", "domain"]
    list_select_related = ["owner"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "account", "title"]
    search_fields = ["first_name", "last_name", "email", "account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account", "lead"]


class ObjectionNoteInline(admin.TabularInline):
    model = ObjectionNote
    extra = 0
    raw_id_fields = ["lead", "collateral"]
    fields = ["category", "said", "response", "overcome", "collateral", "created_at"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["called_at", "rep", "lead", "contact", "outcome", "duration_seconds", "next_step_at"]
    list_filter = ["outcome"]
    search_fields = ["lead__email", "rep__username", "notes"]
    list_select_related = ["rep", "lead", "contact"]
    raw_id_fields = ["lead", "contact", "assignment", "rep"]
    date_hierarchy = "called_at"
    inlines = [ObjectionNoteInline]
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["kind", "due_at", "rep", "lead", "contact", "done_at"]
    list_filter = ["kind"]
    list_select_related = ["rep", "lead", "contact"]
    raw_id_fields = ["lead", "contact", "call", "rep"]


@admin.register(ObjectionNote)
class ObjectionNoteAdmin(admin.ModelAdmin):
    list_display = ["category", "overcome", "lead", "collateral", "created_at"]
    list_filter = ["category", "overcome"]
    search_fields = ["said", "response", "lead__email"]
    list_select_related = ["lead", "collateral"]
    raw_id_fields = ["call", "lead", "collateral"]
    date_hierarchy = "created_at"
    show_full_result_count = False


class DealStageChangeInline(admin.TabularInline):
    model = DealStageChange
    extra = 0
    can_delete = False
    fields = ["at", "from_stage", "to_stage", "actor"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "account",
        "owner",
        "stage",
        "amount",
        "currency",
        "expected_close_on",
        "closed_at",
        "lost_reason",
    ]
    list_filter = ["stage", "lost_reason"]
    search_fields = ["name", "account__name"]
    list_select_related = ["account", "owner"]
    raw_id_fields = ["account", "contact", "lead", "owner"]
    date_hierarchy = "created_at"
    inlines = [DealStageChangeInline]


@admin.register(DealStageChange)
class DealStageChangeAdmin(admin.ModelAdmin):
    list_display = ["deal", "from_stage", "to_stage", "actor", "at"]
    list_filter = ["to_stage"]
    list_select_related = ["deal", "actor"]
    raw_id_fields = ["deal", "actor"]
