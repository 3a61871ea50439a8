"""The only surface of `leads` that other apps import.

Sales reports outcomes to marketing through these functions; it never writes marketing
tables itself, and marketing never reads sales tables.
"""

from .admin_filters import lead_list_filters
from .bulk import DISQUALIFY_REASONS, MAX_BULK, leads_disqualify, leads_mark_do_not_contact
from .consent import consent_overview, consent_withdraw, consents_record, unsubscribe_token, unsubscribe_url
from .editing import lead_edit
from .learned_scoring import LearnedScoring, learned_scoring, learned_scoring_register
from .lifecycle import IllegalTransition, can_transition, lead_transition
from .locks import lead_lock, leads_lock
from .merging import LeadMover, lead_merge, lead_merge_register
from .models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    EngagementKind,
    Lead,
    LeadOutcome,
    LeadSource,
    LeadTransition,
    LifecycleStage,
    Segment,
    phone_digits,
    phone_digits_expression,
)
from .privacy import (
    erased_email as privacy_erased_email,
)
from .privacy import (
    privacy_lead_erase,
    privacy_lead_export,
    privacy_lead_find,
    privacy_lead_personal_terms,
    privacy_retention_due,
)
from .rule_sets import rule_set_restore, rule_set_save, rule_set_snapshot, rule_set_versions
from .scoring import lead_score, leads_rescore_all
from .search import MAX_QUERY_LENGTH as SEARCH_MAX_QUERY_LENGTH
from .search import SearchTerm, exact_rank, fuzzy_columns_q, lead_search, text_match_q
from .segments import segment_contains, segment_member_q
from .services import (
    engagement_record,
    lead_accepted_by_sales,
    lead_converted_to_opportunity,
    lead_engagement_refresh,
    lead_handed_off,
    lead_lost,
    lead_owner_set,
    lead_recycled_no_contact,
    lead_rejected_by_sales,
    lead_won,
    leads_handed_off,
)
from .signals import LEAD_EVENTS, lead_events, lead_qualified
from .whatif import scoring_whatif


def learned_reasons_for_lead(lead: Lead) -> list[dict]:
    """Why the active learned model scores this lead as it does, strongest first: dicts with
    ``feature``, ``value``, ``weight`` (logit points) and ``text`` ("industry = software:
    +0.42"). Empty when no learned model is active. The caller checks the lead is visible."""
    provider = learned_scoring()
    if provider is None or lead.do_not_profile:  # profiling withdrawn: no learned reasons
        return []
    return provider.reasons(lead)


__all__ = [
    "LeadMover",
    "lead_merge",
    "lead_merge_register",
    "lead_list_filters",
    "ConsentPurpose",
    "ConsentRecord",
    "ConsentSource",
    "consent_overview",
    "consent_withdraw",
    "consents_record",
    "privacy_erased_email",
    "privacy_lead_erase",
    "privacy_lead_export",
    "privacy_lead_find",
    "privacy_lead_personal_terms",
    "privacy_retention_due",
    "unsubscribe_token",
    "unsubscribe_url",
    "DISQUALIFY_REASONS",
    "LEAD_EVENTS",
    "MAX_BULK",
    "lead_edit",
    "leads_disqualify",
    "leads_mark_do_not_contact",
    "SEARCH_MAX_QUERY_LENGTH",
    "EngagementKind",
    "IllegalTransition",
    "Lead",
    "LeadOutcome",
    "LeadSource",
    "LeadTransition",
    "LearnedScoring",
    "LifecycleStage",
    "SearchTerm",
    "Segment",
    "can_transition",
    "engagement_record",
    "exact_rank",
    "fuzzy_columns_q",
    "lead_accepted_by_sales",
    "lead_converted_to_opportunity",
    "lead_engagement_refresh",
    "lead_events",
    "lead_handed_off",
    "lead_lock",
    "lead_lost",
    "lead_owner_set",
    "lead_qualified",
    "lead_recycled_no_contact",
    "lead_rejected_by_sales",
    "lead_search",
    "lead_score",
    "lead_transition",
    "lead_won",
    "learned_reasons_for_lead",
    "learned_scoring_register",
    "leads_handed_off",
    "leads_lock",
    "leads_rescore_all",
    "phone_digits",
    "phone_digits_expression",
    "rule_set_restore",
    "rule_set_save",
    "rule_set_snapshot",
    "rule_set_versions",
    "scoring_whatif",
    "segment_contains",
    "segment_member_q",
    "text_match_q",
]
