"""Accounts and contacts: the pages where a rep keeps a customer relationship. A rep sees
their own accounts (another rep's account is a 404, as if it did not exist); managers all."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from leads import api as leads_api

from .account_selectors import (
    account_get_for_user,
    account_list_page_for_user,
    account_page_data,
    contact_get_for_user,
    contact_page_data,
)
from .views import sales_required

ACCOUNTS_PAGE_SIZE = 50


def _account_or_404(request, account_id):
    account = account_get_for_user(user=request.user, account_id=account_id)
    if account is None:
        raise Http404("No such account.")
    return account


def _contact_or_404(request, contact_id):
    contact = contact_get_for_user(user=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404("No such contact.")
    return contact


@require_GET
@sales_required
def account_list(request):
    paginator = Paginator(account_list_page_for_user(user=request.user), ACCOUNTS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "crm/account_list.html", {"page": page, "accounts": page.object_list})


@require_GET
@sales_required
def account_detail(request, account_id: int):
    account = _account_or_404(request, account_id)
    data = account_page_data(user=request.user, account=account)
    return render(request, "crm/account_detail.html", {"account": account, "data": data})


@require_GET
@sales_required
def contact_detail(request, contact_id: int):
    contact = _contact_or_404(request, contact_id)
    data = contact_page_data(user=request.user, contact=contact)
    context = {"contact": contact, "account": contact.account, "data": data}
    if contact.lead_id:  # consent is recorded on the person's lead
        context.update(
            lead=contact.lead,
            consents=leads_api.consent_overview(contact.lead_id),
            next_url=reverse("crm:contact-detail", args=[contact.pk]) + "#consent",
        )
    return render(request, "crm/contact_detail.html", context)
