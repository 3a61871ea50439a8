import datetime

import factory
from django.utils import timezone

from campaigns.models import ObjectionCategory
from crm.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Call,
    CallOutcome,
    Contact,
    Deal,
    DealStageChange,
    EmailOutbox,
    FollowUp,
    Notification,
    ObjectionNote,
    QueueMembership,
    SalesQueue,
    SlaAction,
    SlaBreach,
)
from tests.factories import UserFactory
from tests.leads.factories import LeadFactory


class SalesQueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesQueue

    name = factory.Sequence(lambda n: f"Queue {n}")
    priority = factory.Sequence(lambda n: n + 1)


class QueueMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueMembership

    queue = factory.SubFactory(SalesQueueFactory)
    rep = factory.SubFactory(UserFactory)
    capacity = 10


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    lead = factory.SubFactory(LeadFactory)
    queue = factory.SubFactory(SalesQueueFactory)
    rep = factory.SubFactory(UserFactory)
    status = AssignmentStatus.ASSIGNED
    handed_off_at = factory.LazyFunction(timezone.now)
    assigned_at = factory.LazyAttribute(lambda o: o.handed_off_at)
    sla_due_at = factory.LazyAttribute(lambda o: o.handed_off_at + datetime.timedelta(hours=1))


class SlaBreachFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaBreach

    assignment = factory.SubFactory(AssignmentFactory)
    breached_at = factory.LazyFunction(timezone.now)
    action = SlaAction.REASSIGN


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = "assignment"
    message = "A new lead was assigned to you."
    created_at = factory.LazyFunction(timezone.now)


class EmailOutboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailOutbox

    notification = factory.SubFactory(NotificationFactory)
    to_email = factory.LazyAttribute(lambda o: o.notification.user.email)
    subject = "[Baton] A new lead was assigned to you."
    body = "A new lead was assigned to you."
    created_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"account{n}.example.com")
    industry = "software"
    owner = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    rep = factory.SubFactory(UserFactory)
    lead = factory.SubFactory(LeadFactory)
    outcome = CallOutcome.CONNECTED
    duration_seconds = 120
    called_at = factory.LazyFunction(timezone.now)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    rep = factory.SubFactory(UserFactory)
    lead = factory.SubFactory(LeadFactory)
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))


class ObjectionNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ObjectionNote

    call = factory.SubFactory(CallFactory)
    lead = factory.LazyAttribute(lambda o: o.call.lead)
    category = ObjectionCategory.PRICE
    said = "Too expensive for us this year."
    response = "Shared the ROI case study."
    created_at = factory.LazyFunction(timezone.now)


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    name = factory.Sequence(lambda n: f"Deal {n}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.SubFactory(UserFactory)
    amount = 5000
    created_at = factory.LazyFunction(timezone.now)


class DealStageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealStageChange

    deal = factory.SubFactory(DealFactory)
    to_stage = "qualification"
    at = factory.LazyFunction(timezone.now)
