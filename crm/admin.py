from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from config.admin_base import ReadOnlyModelAdmin
from config.roles import SALES_REP
from config.text_limits import NOTE_MAX_LENGTH
from leads.api import lead_list_filters

from .models import (
    OPEN_DEAL_STAGES,
    Account,
    Assignment,
    Call,
    Contact,
    Deal,
    DealStage,
    DealStageChange,
    DealStageProbability,
    EmailOutbox,
    FollowUp,
    HandoffRefusal,
    LostReason,
    Notification,
    ObjectionNote,
    QueueMembership,
    SalesQueue,
    SlaBreach,
)
from .services.deals import deal_close, deal_move
from .services.handoff import assignment_reassign


def _service_errors(modeladmin, request, error: Exception) -> None:
    """A service refused the change (someone else changed the row meanwhile): say so."""
    text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
    modeladmin.message_user(request, f"Not changed: {text}", messages.ERROR)


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


class AssignmentAdminForm(forms.ModelForm):
    """Nothing of an assignment is edited here: the hand-off, the rep's accept / reject and the
    SLA check write them. A manager can move an active one to another rep, which goes through
    the reassign service (a new assignment with a fresh SLA, the old rep told)."""

    reassign_to = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Reassign to",
        help_text="Moves the lead to this rep (a new assignment with a fresh SLA).",
    )

    class Meta:
        model = Assignment
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reassign_to"].queryset = (
            get_user_model().objects.filter(is_active=True, groups__name=SALES_REP).order_by("username")
        )

    def clean_reassign_to(self):
        rep = self.cleaned_data.get("reassign_to")
        if rep is not None:
            if not self.instance.is_active:
                raise ValidationError(
                    f"Only an active assignment can be reassigned; this one is {self.instance.get_status_display()}."
                )
            if rep.pk == self.instance.rep_id:
                raise ValidationError(f"The lead is already assigned to {rep.username}.")
        return rep


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    form = AssignmentAdminForm
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
    list_filter = ["status", "queue", "rejected_reason", "lead__source", *lead_list_filters("lead")]
    search_fields = ["lead__email", "rep__username"]
    list_select_related = ["lead", "queue", "rep"]
    date_hierarchy = "handed_off_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in Assignment._meta.fields if f.name != "id"]
    fieldsets = [
        (None, {"fields": ["reassign_to"]}),
        ("Assignment (written by the hand-off and the rep)", {"fields": readonly_fields}),
    ]

    def has_add_permission(self, request):
        return False  # assignments come from the hand-off

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        rep = form.cleaned_data.get("reassign_to")
        if rep is None:
            return
        try:
            assignment_reassign(assignment_id=obj.pk, rep_id=rep.pk, actor=request.user)
        except (ValidationError, PermissionDenied) as error:
            _service_errors(self, request, error)


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


DEAL_EDITABLE = ["name", "account", "contact", "owner", "amount", "currency", "expected_close_on"]


class DealAdminForm(forms.ModelForm):
    """The deal's own fields are edited here; its stage only moves through the deal services
    (``deal_move`` for an open stage, ``deal_close`` to win or lose it), which record the
    move and tell marketing the outcome."""

    move_to = forms.ChoiceField(
        required=False,
        label="Move to stage",
        choices=[("", "—"), *((s, DealStage(s).label) for s in OPEN_DEAL_STAGES)],
        help_text="Another open stage; recorded in the stage history.",
    )
    close_as = forms.ChoiceField(
        required=False,
        label="Close as",
        choices=[("", "—"), ("won", "Won"), ("lost", "Lost")],
        help_text="Won makes the lead a customer; lost sends it back to marketing with the reason.",
    )
    close_lost_reason = forms.ChoiceField(required=False, label="Lost reason", choices=[("", "—"), *LostReason.choices])
    close_lost_note = forms.CharField(
        required=False, label="Lost note", max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = Deal
        fields = DEAL_EDITABLE

    def clean(self):
        cleaned = super().clean()
        move_to, close_as = cleaned.get("move_to"), cleaned.get("close_as")
        deal = self.instance
        if move_to and close_as:
            self.add_error("move_to", "Either move the deal or close it, not both.")
        elif (move_to or close_as) and deal.is_closed:
            self.add_error(
                "close_as" if close_as else "move_to", f"The deal is already closed ({deal.get_stage_display()})."
            )
        elif move_to and move_to == deal.stage:
            self.add_error("move_to", f"The deal is already in {deal.get_stage_display()}.")
        elif close_as == "lost":
            if not cleaned.get("close_lost_reason"):
                self.add_error("close_lost_reason", "Say why the deal was lost.")
            elif (
                cleaned["close_lost_reason"] == LostReason.OTHER and not (cleaned.get("close_lost_note") or "").strip()
            ):
                self.add_error("close_lost_note", "Describe the reason when it is 'other'.")
        return cleaned


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    form = DealAdminForm
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
    raw_id_fields = ["account", "contact", "owner"]
    date_hierarchy = "created_at"
    inlines = [DealStageChangeInline]
    readonly_fields = ["stage", "lead", "closed_at", "lost_reason", "lost_note", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": DEAL_EDITABLE}),
        (
            "Stage (through the deal services)",
            {"fields": ["move_to", "close_as", "close_lost_reason", "close_lost_note"]},
        ),
        ("Recorded", {"fields": readonly_fields}),
    ]

    def has_add_permission(self, request):
        return False  # a deal comes from converting a lead on its page

    def save_model(self, request, obj, form, change):
        # Only the fields edited here are written, so a stage moved meanwhile is not put back.
        changed = [name for name in DEAL_EDITABLE if name in form.changed_data]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])
        data = form.cleaned_data
        try:
            if data.get("move_to"):
                deal_move(deal_id=obj.pk, stage=data["move_to"], actor=request.user)
            elif data.get("close_as"):
                deal_close(
                    deal_id=obj.pk,
                    won=data["close_as"] == "won",
                    actor=request.user,
                    lost_reason=data.get("close_lost_reason") or "",
                    lost_note=data.get("close_lost_note") or "",
                )
        except (ValidationError, PermissionDenied) as error:
            _service_errors(self, request, error)


@admin.register(DealStageProbability)
class DealStageProbabilityAdmin(admin.ModelAdmin):
    """One row per stage (made by a migration): managers tune the forecast's probabilities and
    which stages count as committed; rows are not added or deleted."""

    list_display = ["stage", "probability", "is_commit"]
    list_editable = ["probability", "is_commit"]
    readonly_fields = ["stage"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DealStageChange)
class DealStageChangeAdmin(ReadOnlyModelAdmin):
    """Read-only: the stage history is written by the deal services."""

    list_display = ["deal", "from_stage", "to_stage", "actor", "at"]
    list_filter = ["to_stage"]
    list_select_related = ["deal", "actor"]
