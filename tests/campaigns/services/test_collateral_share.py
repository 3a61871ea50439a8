import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from campaigns.api import collateral_share
from tests.campaigns.factories import CollateralFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_a_rep_shares_an_item_with_their_lead_and_gets_an_unguessable_token(rep):
    lead = LeadFactory(owner=rep)
    item = CollateralFactory()

    share = collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)
    again = collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)

    assert share.lead == lead and share.shared_by == rep and share.shared_at is not None
    assert len(share.token) >= 32
    assert share.token != again.token


def test_sharing_an_expired_item_is_refused_naming_the_item(rep):
    lead = LeadFactory(owner=rep)
    item = CollateralFactory(title="Old prices", expires_on=timezone.localdate() - datetime.timedelta(days=1))

    with pytest.raises(ValidationError) as error:
        collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)

    assert "expired" in error.value.message_dict["collateral_id"][0]


def test_sharing_an_archived_item_is_refused(rep):
    lead = LeadFactory(owner=rep)
    item = CollateralFactory(is_archived=True)

    with pytest.raises(ValidationError) as error:
        collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)

    assert "archived" in error.value.message_dict["collateral_id"][0]


def test_an_item_with_nothing_to_hand_out_cannot_be_shared(rep):
    lead = LeadFactory(owner=rep)
    item = CollateralFactory(url="")

    with pytest.raises(ValidationError) as error:
        collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)

    assert "no file or URL" in error.value.message_dict["collateral_id"][0]


def test_another_reps_lead_looks_like_no_lead(rep, other_rep):
    lead = LeadFactory(owner=other_rep)
    item = CollateralFactory()

    with pytest.raises(ValidationError) as error:
        collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)

    assert error.value.message_dict == {"lead_id": ["Lead not found (it may have been moved to someone else)."]}


def test_unknown_item_is_a_clear_error(rep):
    lead = LeadFactory(owner=rep)

    with pytest.raises(ValidationError) as error:
        collateral_share(collateral_id=999999, lead_id=lead.pk, actor=rep)

    assert "collateral_id" in error.value.message_dict


def test_managers_read_but_do_not_share(manager):
    with pytest.raises(PermissionDenied):
        collateral_share(collateral_id=CollateralFactory().pk, lead_id=LeadFactory().pk, actor=manager)


def test_marketing_may_share_with_any_lead(marketer):
    share = collateral_share(collateral_id=CollateralFactory().pk, lead_id=LeadFactory().pk, actor=marketer)

    assert share.pk is not None


def test_an_item_approved_for_other_segments_cannot_be_shared_with_this_lead(rep):
    lead = LeadFactory(owner=rep, industry="software")
    item = CollateralFactory()
    item.approved_segments.set(
        [SegmentFactory(name="Retail only", definition={"field": "industry", "op": "eq", "value": "retail"})]
    )

    with pytest.raises(ValidationError) as error:
        collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)

    assert "Retail only" in error.value.message_dict["collateral_id"][0]
