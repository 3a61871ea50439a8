"""Generated outcome history for learned-scoring tests, inserted set-based."""

import datetime
import random

import factory
from django.utils import timezone

from leads.learning.models import LearnedModel, LearnedModelStatus
from leads.models import EngagementEvent, EngagementKind, Lead, LeadSource, LeadTransition, LifecycleStage

S = LifecycleStage
INDUSTRIES = ("software", "finance", "retail", "energy")


def outcome_history(n: int, *, seed: int = 1, signal: bool = True, now=None, prefix: str = "hist") -> list[Lead]:
    """``n`` leads with a closed outcome each, dated over the last 200 days in id order.

    With ``signal`` the outcome depends on the lead: software leads and leads with a webinar
    mostly convert, retail ones mostly do not; without it the outcome is a fair coin.
    Negative outcomes use every counted reason kind (lost, rejected, no contact)."""
    rng = random.Random(seed)
    now = now or timezone.now()
    leads = []
    for i in range(n):
        industry = rng.choice(INDUSTRIES)
        leads.append(
            Lead(
                email=f"{prefix}{seed}-{i}@example.com",
                industry=industry,
                country=rng.choice(("DE", "PT", "US")),
                employees=rng.choice((None, 5, 50, 500, 5000)),
                source=rng.choice(LeadSource.values),
                email_opt_in=rng.random() < 0.5,
                custom_attributes={"plan": rng.choice(("free", "pro", "")), "age": rng.randint(20, 70)},
                stage=S.RECYCLED,
                created_at=now - datetime.timedelta(days=300),
            )
        )
    leads = Lead.objects.bulk_create(leads)
    transitions, events = [], []
    for i, lead in enumerate(leads):
        at = now - datetime.timedelta(days=200) + datetime.timedelta(days=200 * i / n)
        webinar = rng.random() < 0.3
        if webinar:
            events.append(
                EngagementEvent(lead=lead, kind=EngagementKind.WEBINAR, occurred_at=at - datetime.timedelta(days=1))
            )
        if signal:
            p = {"software": 0.8, "finance": 0.45, "retail": 0.1, "energy": 0.35}[lead.industry]
            p = min(0.95, p + (0.3 if webinar else 0.0))
        else:
            p = 0.5
        if rng.random() < p:
            transitions.append(
                LeadTransition(
                    lead=lead, from_stage=S.OPPORTUNITY, to_stage=S.CUSTOMER, reason="won", outcome="won", at=at
                )
            )
        else:
            reason = rng.choice(("lost:price", "rejected:bad_fit", "no_contact"))
            outcome, _, outcome_reason = reason.partition(":")
            transitions.append(
                LeadTransition(
                    lead=lead,
                    from_stage=S.SAL,
                    to_stage=S.RECYCLED,
                    reason=reason,
                    outcome=outcome,
                    outcome_reason=outcome_reason,
                    at=at,
                )
            )
    LeadTransition.objects.bulk_create(transitions)
    EngagementEvent.objects.bulk_create(events)
    Lead.objects.filter(pk__in=[t.lead_id for t in transitions if t.to_stage == S.CUSTOMER]).update(stage=S.CUSTOMER)
    return leads


class LearnedModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearnedModel

    version = factory.Sequence(lambda n: 1000 + n)
    status = LearnedModelStatus.READY
    window_start = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=730))
    window_end = factory.LazyFunction(timezone.now)
    trained_at = factory.LazyFunction(timezone.now)
    metrics = factory.LazyFunction(
        lambda: {"auc_time": 0.7, "baseline_nb_auc_time": 0.6, "lift": [], "calibration": []}
    )
