"""The header search: leads, contacts, accounts and deals matching what a person typed, each
group with the row rules of its pages (a rep finds only their own rows, marketing every lead
and no sales rows, managers everything). One query per group the user may see, whatever the
data: the groups are limited in SQL, and a result's link is built from its own row."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import CharField, F, Func, Q
from django.db.models.functions import Lower
from django.urls import reverse

from config.roles import is_manager, is_marketer, is_rep
from leads import api as leads_api

from .models import OPEN_FOR_REP_STATUSES, Account, Assignment, Contact, Deal
from .selectors import account_visible_q, contact_visible_q, deal_visible_q

RESULTS_PER_GROUP = 5
MAX_QUERY_LENGTH = leads_api.SEARCH_MAX_QUERY_LENGTH


@dataclass
class SearchResult:
    kind: str
    id: int
    title: str
    subtitle: str
    url: str


@dataclass
class SearchGroup:
    kind: str
    label: str
    results: list[SearchResult] = field(default_factory=list)


def _lead_url(user, lead) -> str:
    if is_rep(user) or is_manager(user):
        return reverse("crm:lead-detail", args=[lead.pk])
    return reverse("admin:leads_lead_change", args=[lead.pk]) if user.is_staff else ""


def _rep_lead_ids(user):
    """The ids of lead_visible_q (owned, or with an open assignment to the rep) as a union of
    two index scans: the search then reads the rep's book, not the million leads around it."""
    owned = leads_api.Lead.objects.filter(owner=user).order_by().values("id")
    assigned = Assignment.objects.filter(rep=user, status__in=OPEN_FOR_REP_STATUSES).order_by().values("lead_id")
    return owned.union(assigned)


def _leads(user, term: leads_api.SearchTerm, limit: int) -> SearchGroup | None:
    if is_manager(user) or is_marketer(user):
        qs = leads_api.Lead.objects.all()
    elif is_rep(user):
        qs = leads_api.Lead.objects.filter(pk__in=_rep_lead_ids(user))
    else:
        return None
    rows = leads_api.lead_search(
        qs,
        term,
        limit=limit,
        fields=("id", "first_name", "last_name", "email", "company", "phone", "stage"),
        narrow=not (is_manager(user) or is_marketer(user)),
    )
    group = SearchGroup("leads", "Leads")
    for lead in rows:
        subtitle = " · ".join(part for part in (lead.email, lead.company, lead.phone) if part)
        group.results.append(
            SearchResult("lead", lead.pk, lead.full_name or lead.email, subtitle, _lead_url(user, lead))
        )
    return group


class LowerFullName(Func):
    """lower(first_name || ' ' || last_name): the expression contact_name_trgm_idx indexes."""

    template = "LOWER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = CharField()


def _union_ids(*querysets):
    """The ids of several matches as one UNION, so each part is answered by its own index
    (an OR across tables would be a filter over every row)."""
    parts = [qs.order_by().values("id") for qs in querysets]
    return parts[0].union(*parts[1:])


def _matching_account_ids(term, *, fuzzy: bool):
    accounts = Account.objects.annotate(name_lower=Lower("name"), domain_lower=Lower("domain"))
    exact = leads_api.text_match_q(term, contains=("name_lower", "domain_lower"))
    match = exact | leads_api.fuzzy_columns_q(term, ("name_lower",)) if fuzzy else exact
    return accounts.filter(match).order_by().values("id")


def _contacts(user, term, limit: int) -> SearchGroup:
    contacts = Contact.objects.annotate(
        name_lower=LowerFullName(F("first_name"), F("last_name")),
        email_lower=Lower("email"),
        digits=leads_api.phone_digits_expression(),
    )
    own_exact = leads_api.text_match_q(term, contains=("name_lower",), prefix=("email_lower",))
    if term.digits:
        own_exact |= Q(digits__contains=term.digits)
    exact = own_exact | Q(account_id__in=_matching_account_ids(term, fuzzy=False))
    found = _union_ids(
        contacts.filter(own_exact | leads_api.fuzzy_columns_q(term, ("name_lower",))),
        contacts.filter(account_id__in=_matching_account_ids(term, fuzzy=True)),
    )
    rows = (
        contacts.filter(contact_visible_q(user), pk__in=found)
        .select_related("account")
        .annotate(search_rank=leads_api.exact_rank(exact))
        .order_by("-search_rank", "last_name", "id")[:limit]
    )
    group = SearchGroup("contacts", "Contacts")
    for contact in rows:
        subtitle = " · ".join(part for part in (contact.account.name, contact.email, contact.phone) if part)
        url = reverse("crm:contact-detail", args=[contact.pk])
        group.results.append(SearchResult("contact", contact.pk, str(contact), subtitle, url))
    return group


def _accounts(user, term, limit: int) -> SearchGroup:
    qs = Account.objects.filter(account_visible_q(user)).annotate(
        name_lower=Lower("name"), domain_lower=Lower("domain")
    )
    exact = leads_api.text_match_q(term, contains=("name_lower", "domain_lower"))
    match = exact | leads_api.fuzzy_columns_q(term, ("name_lower",))
    rank = leads_api.exact_rank(exact)
    rows = qs.filter(match).annotate(search_rank=rank).order_by("-search_rank", "name", "id")[:limit]
    group = SearchGroup("accounts", "Accounts")
    for account in rows:
        subtitle = " · ".join(part for part in (account.domain, "customer" if account.is_customer else "") if part)
        url = reverse("crm:account-detail", args=[account.pk])
        group.results.append(SearchResult("account", account.pk, account.name, subtitle, url))
    return group


def _deals(user, term, limit: int) -> SearchGroup:
    deals = Deal.objects.annotate(name_lower=Lower("name"))
    own_exact = leads_api.text_match_q(term, contains=("name_lower",))
    exact = own_exact | Q(account_id__in=_matching_account_ids(term, fuzzy=False))
    found = _union_ids(
        deals.filter(own_exact | leads_api.fuzzy_columns_q(term, ("name_lower",))),
        deals.filter(account_id__in=_matching_account_ids(term, fuzzy=True)),
    )
    rows = (
        deals.filter(deal_visible_q(user), pk__in=found)
        .select_related("account")
        .annotate(search_rank=leads_api.exact_rank(exact))
        .order_by("-search_rank", "-amount", "id")[:limit]
    )
    group = SearchGroup("deals", "Deals")
    for deal in rows:
        subtitle = f"{deal.account.name} · {deal.get_stage_display()}"
        url = reverse("crm:account-detail", args=[deal.account_id]) + f"#deal-{deal.pk}"
        group.results.append(SearchResult("deal", deal.pk, deal.name, subtitle, url))
    return group


def search_for_user(*, user, query: str | None, limit: int = RESULTS_PER_GROUP) -> list[SearchGroup]:
    """The groups this user may search, in a fixed order, each with at most ``limit`` results
    best first (empty groups included, so a page can say "no contacts"). Marketing searches
    leads only; an anonymous user or one without a role nothing."""
    term = leads_api.SearchTerm.parse(query)
    if not term or not user.is_authenticated:
        return []
    groups = []
    lead_group = _leads(user, term, limit)
    if lead_group is not None:
        groups.append(lead_group)
    if is_rep(user) or is_manager(user):
        groups += [_contacts(user, term, limit), _accounts(user, term, limit), _deals(user, term, limit)]
    return groups
