"""One person with a row in every table Baton keeps about people (the privacy tests' subject)."""

from crm.models import Notification
from leads.consent import consents_record
from tests.campaigns.factories import (
    CampaignMemberFactory,
    CollateralShareFactory,
    CollateralViewFactory,
    CustomerFeedbackFactory,
)
from tests.crm.factories import ContactFactory, DealFactory, FollowUpFactory, ObjectionNoteFactory
from tests.crm.sales_fixtures import assigned_lead
from tests.leads.factories import EngagementEventFactory, LeadTransitionFactory

NAME = ("Wilhelmina", "Quarrington")
EMAIL = "wilhelmina.q@quarry.example"
PHONE = "+49 30 5550123"


def person_everywhere(rep, *, deal_stage="won", copies: int = 1):
    assignment = assigned_lead(
        rep,
        first_name=NAME[0],
        last_name=NAME[1],
        email=EMAIL,
        phone=PHONE,
        company="Quarry GmbH",
        assignment={"rejected_note": "Wilhelmina wanted a call in March"},
    )
    lead = assignment.lead
    consents_record(lead_id=lead.pk, changes=[("email_marketing", True)], source="form", evidence="Newsletter v2")
    contact = ContactFactory(lead=lead, first_name=NAME[0], last_name=NAME[1], email=EMAIL, phone=PHONE)
    for i in range(copies):
        EngagementEventFactory(lead=lead, kind="webinar", source_reference=f"zoom:wq@{i}")
        LeadTransitionFactory(lead=lead, note=f"Quarrington asked for pricing {i}")
        CampaignMemberFactory(lead=lead)
        share = CollateralShareFactory(lead=lead, shared_by=rep)
        CollateralViewFactory(share=share, user_agent="Mozilla/5.0 (Wilhelmina's Mac)")
        CustomerFeedbackFactory(lead=lead, comment=f"Wilhelmina: great support {i}")
        note = ObjectionNoteFactory(
            call__rep=rep,
            call__lead=lead,
            call__notes=f"Spoke with Wilhelmina Quarrington on {PHONE}",
            said="Wilhelmina says the price is too high",
            response="Sent Quarrington the ROI sheet",
        )
        FollowUpFactory(rep=rep, lead=lead, call=note.call)
        Notification.objects.create(
            user=rep,
            kind="handoff",
            message=f"New lead: {NAME[0]} {NAME[1]} (Quarry GmbH)",
            url=f"/calls/leads/{lead.pk}/",
            created_at=lead.created_at,
        )
    DealFactory(
        lead=lead,
        contact=contact,
        owner=rep,
        account=contact.account,
        name=f"Quarry GmbH – {NAME[1]}",
        stage=deal_stage,
        closed_at=lead.created_at if deal_stage in ("won", "lost") else None,
        lost_note="",
    )
    return lead
