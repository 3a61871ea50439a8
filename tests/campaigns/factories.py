import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignMember,
    Collateral,
    CollateralKind,
    CollateralShare,
    CollateralVersion,
    CollateralView,
    CustomerFeedback,
    FeedbackSource,
)
from tests.factories import UserFactory
from tests.leads.factories import LeadFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    kind = CampaignKind.WEBINAR
    budget = 1000
    actual_cost = 800
    owner = factory.SubFactory(UserFactory)


class CampaignMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignMember

    campaign = factory.SubFactory(CampaignFactory)
    lead = factory.SubFactory(LeadFactory)
    added_at = factory.LazyFunction(timezone.now)


class CollateralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collateral

    title = factory.Sequence(lambda n: f"Case study {n}")
    kind = CollateralKind.CASE_STUDY
    url = "https://example.com/case-study"
    industries = factory.LazyFunction(lambda: ["software"])
    objection_categories = factory.LazyFunction(lambda: ["price"])


class CollateralVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollateralVersion

    collateral = factory.SubFactory(CollateralFactory)
    number = factory.Sequence(lambda n: n + 1)
    file = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4\n%test\n", name="case-study.pdf"))
    original_name = "case-study.pdf"
    content_type = "application/pdf"
    size = 15


class CollateralShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollateralShare

    collateral = factory.SubFactory(CollateralFactory)
    lead = factory.SubFactory(LeadFactory)
    shared_by = factory.SubFactory(UserFactory)
    shared_at = factory.LazyFunction(timezone.now)


class CollateralViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollateralView

    share = factory.SubFactory(CollateralShareFactory)
    viewed_at = factory.LazyFunction(timezone.now)


class CustomerFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerFeedback

    lead = factory.SubFactory(LeadFactory)
    rating = 9
    source = FeedbackSource.SURVEY
    created_at = factory.LazyFunction(timezone.now)
