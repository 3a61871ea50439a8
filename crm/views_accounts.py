"""Accounts and contacts: the pages where a rep keeps a customer relationship. A rep sees
their own accounts (another rep's account is a 404, as if it did not exist); managers all."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns import api as campaigns_api
from config.roles import is_manager
from leads import api as leads_api

from . import account_forms
from .account_selectors import (
    account_get_for_user,
    account_list_page_for_user,
    account_page_data,
    contact_get_for_user,
    contact_page_data,
)
from .forms import add_service_errors
from .services.accounts import account_update, contact_create, contact_update
from .services.calls import call_log
from .services.deals import deal_open
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
    return _account_page(request, _account_or_404(request, account_id))


@require_GET
@sales_required
def contact_detail(request, contact_id: int):
    contact = _contact_or_404(request, contact_id)
    data = contact_page_data(user=request.user, contact=contact)
    form = account_forms.ContactForm(
        prefix="contact",
        initial={f: getattr(contact, f) for f in ("first_name", "last_name", "email", "phone", "title")},
    )
    context = {"contact": contact, "account": contact.account, "data": data, "form": form}
    if contact.lead_id:  # consent is recorded on the person's lead
        context.update(
            lead=contact.lead,
            consents=leads_api.consent_overview(contact.lead_id),
            next_url=reverse("crm:contact-detail", args=[contact.pk]) + "#consent",
        )
    return render(request, "crm/contact_detail.html", context)


# --- The action bar and the edit forms -----------------------------------------------------------


def _forms(request, account, contacts, bound=None):
    """Every form of the account page, unbound except the one that was just posted."""
    manager = is_manager(request.user)
    forms = {
        "call": account_forms.ContactCallForm(contacts=contacts, prefix="call"),
        "contact": account_forms.ContactForm(prefix="contact"),
        "checkin": account_forms.CheckInForm(prefix="checkin", initial={"next_check_in_on": account.next_check_in_on}),
        "deal": account_forms.DealOpenForm(contacts=contacts, prefix="deal"),
        "feedback": account_forms.FeedbackForm(contacts=contacts, prefix="feedback"),
        "edit": account_forms.AccountForm(
            manager=manager,
            prefix="edit",
            initial={
                "name": account.name,
                "domain": account.domain,
                "industry": account.industry,
                "employees": account.employees,
                "country": account.country,
                "owner": account.owner_id,
            },
        ),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    return forms


def _account_page(request, account, *, bound=None, status=200):
    data = account_page_data(user=request.user, account=account)
    context = {
        "account": account,
        "data": data,
        "forms": _forms(request, account, data.contacts, bound),
        "open_form": bound[0] if bound else "",
        "can_edit": is_manager(request.user) or account.owner_id == request.user.pk,
    }
    return render(request, "crm/account_detail.html", context, status=status)


ACTION_FORMS = {
    "call": account_forms.ContactCallForm,
    "contact": account_forms.ContactForm,
    "checkin": account_forms.CheckInForm,
    "deal": account_forms.DealOpenForm,
    "feedback": account_forms.FeedbackForm,
    "edit": account_forms.AccountForm,
}


def _run(request, account, action, form):
    data = form.cleaned_data
    user = request.user
    if action == "call":
        call_log(
            rep=user,
            contact_id=data["contact"],
            outcome=data["outcome"],
            duration_seconds=int(round((data.get("duration_minutes") or 0) * 60)),
            notes=data.get("notes", ""),
            next_step_at=data.get("next_step_at"),
        )
        return "Call logged."
    if action == "contact":
        contact = contact_create(actor=user, account_id=account.pk, **data)
        return f"{contact} added."
    if action == "checkin":
        account_update(actor=user, account_id=account.pk, next_check_in_on=data["next_check_in_on"])
        return f"Next check-in on {data['next_check_in_on']:%a %d %b %Y}."
    if action == "deal":
        deal = deal_open(
            account_id=account.pk,
            actor=user,
            name=data["name"],
            amount=data["amount"],
            currency=data["currency"],
            expected_close_on=data.get("expected_close_on"),
            contact_id=data.get("contact"),
        )
        return f"Deal “{deal.name}” opened."
    if action == "feedback":
        contact = next(c for c in account.contacts.all() if c.pk == data["contact"])
        campaigns_api.feedback_record(
            lead_id=contact.lead_id, rating=data["rating"], comment=data["comment"], actor=user
        )
        return "Feedback saved."
    values = {k: v for k, v in data.items() if k != "owner"}
    values["employees"] = data.get("employees")
    if "owner" in data and is_manager(user):
        values["owner_id"] = data["owner"]
    account_update(actor=user, account_id=account.pk, **values)
    return "Account saved."


@require_POST
@sales_required
def account_action(request, account_id: int, action: str):
    if action not in ACTION_FORMS:
        raise Http404("No such action.")
    account = _account_or_404(request, account_id)
    contacts = list(account.contacts.all())
    kwargs = {"prefix": action}
    if action in ("call", "deal", "feedback"):
        kwargs["contacts"] = contacts
    if action == "edit":
        kwargs["manager"] = is_manager(request.user)
    form = ACTION_FORMS[action](request.POST, **kwargs)
    if form.is_valid():
        try:
            message = _run(request, account, action, form)
        except ValidationError as error:
            add_service_errors(form, error, getattr(form, "SERVICE_FIELDS", {}))
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, message)
            return redirect("crm:account-detail", account_id=account.pk)
    account = _account_or_404(request, account_id)
    return _account_page(request, account, bound=(action, form), status=400)


@require_POST
@sales_required
def contact_edit(request, contact_id: int):
    contact = _contact_or_404(request, contact_id)
    form = account_forms.ContactForm(request.POST, prefix="contact")
    if form.is_valid():
        try:
            contact_update(actor=request.user, contact_id=contact.pk, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Contact saved.")
            return redirect("crm:contact-detail", contact_id=contact.pk)
    data = contact_page_data(user=request.user, contact=contact)
    context = {"contact": contact, "account": contact.account, "data": data, "form": form}
    return render(request, "crm/contact_detail.html", context, status=400)
