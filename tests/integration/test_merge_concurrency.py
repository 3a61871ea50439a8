"""Merges racing on PostgreSQL: A<-B, B<-A and A<-C at once, in threads with their own
connections. Both leads are locked in pk order, so they wait for each other (no deadlock); the
one that finds its lead gone refuses; nothing is lost and every row ends on a lead that exists."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from campaigns.models import CampaignMember
from crm.models import ACTIVE_ASSIGNMENT_STATUSES, Assignment, AssignmentStatus, Call
from leads.merging import lead_merge
from leads.models import EngagementEvent, Lead, LeadMerge
from tests.campaigns.factories import CampaignMemberFactory
from tests.crm.factories import AssignmentFactory, CallFactory
from tests.leads.factories import EngagementEventFactory, LeadFactory

ROUNDS = 6


def _lead_with_rows(rep):
    lead = LeadFactory(stage="sal", owner=rep)
    for kind in ("webinar", "page_view"):
        EngagementEventFactory(lead=lead, kind=kind, occurred_at=timezone.now())
    CampaignMemberFactory(lead=lead)
    CallFactory(lead=lead, rep=rep)
    AssignmentFactory(lead=lead, rep=rep, status=AssignmentStatus.ACCEPTED)
    return lead


def _race(actor, merges):
    barrier = threading.Barrier(len(merges))
    errors, refused, done = [], [], []

    def each(survivor_id, merged_id):
        def run():
            try:
                barrier.wait()
                done.append(lead_merge(survivor_id=survivor_id, merged_id=merged_id, actor=actor).merged_lead_id)
            except ValidationError:
                refused.append((survivor_id, merged_id))  # its lead was merged away first
            except BaseException as exc:  # a deadlock or any other database error fails the test
                errors.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=each(s, m)) for s, m in merges]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors, refused, done


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_merges_of_overlapping_pairs_at_once_never_deadlock_nor_lose_rows(make_user):
    rep = make_user("Sales rep", username="merge_rep")
    manager = make_user("Sales manager", username="merge_manager")
    for _ in range(ROUNDS):
        a, b, c = (_lead_with_rows(rep) for _ in range(3))
        ids = [a.pk, b.pk, c.pk]
        before = {
            "events": EngagementEvent.objects.filter(lead_id__in=ids).count(),
            "members": CampaignMember.objects.filter(lead_id__in=ids).count(),
            "calls": Call.objects.filter(lead_id__in=ids).count(),
            "assignments": Assignment.objects.filter(lead_id__in=ids).count(),
        }

        errors, refused, done = _race(manager, [(a.pk, b.pk), (b.pk, a.pk), (a.pk, c.pk)])

        assert errors == [], [repr(e) for e in errors]
        left = list(Lead.objects.filter(pk__in=ids).values_list("pk", flat=True))
        # every merge either ran or was refused; each that ran removed one lead
        assert len(done) + len(refused) == 3 and len(left) == 3 - len(done)
        assert sorted(done) == sorted(set(ids) - set(left))
        assert LeadMerge.objects.filter(merged_lead_id__in=ids).count() == len(done)
        # nothing lost: every row is still there, on a lead that exists
        assert EngagementEvent.objects.filter(lead_id__in=left).count() == before["events"]
        assert CampaignMember.objects.filter(lead_id__in=left).count() == before["members"]
        assert Call.objects.filter(lead_id__in=left).count() == before["calls"]
        assert Assignment.objects.filter(lead_id__in=left).count() == before["assignments"]
        for lead_id in left:
            assert Assignment.objects.filter(lead_id=lead_id, status__in=ACTIVE_ASSIGNMENT_STATUSES).count() == 1
        # A<-B and B<-A cannot both run
        assert not ({a.pk, b.pk} <= set(done))
