"""`python manage.py bench campaign_members --members 100000`.

Builds (once; later runs reuse them) ``--members`` generated leads and a segment holding all of
them, then times (committed, foreign-key checks included; the campaign is removed afterwards)
adding the whole segment to a new campaign with ``campaign_members_add_from_segment`` (one INSERT ... SELECT) and counts its
queries. The baseline, measured in the same run, is the one-by-one ``campaign_member_add``
over ``--baseline`` leads, extrapolated to the same number of members. The last line printed
is one JSON object.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, CampaignKind, CampaignMember
from campaigns.services.campaigns import campaign_member_add, campaign_members_add_from_segment
from config.roles import MARKETING
from leads.api import Lead, Segment

EMAIL_PREFIX = "benchcampaign"
SEGMENT_NAME = "Bench: campaign members"


def add_arguments(parser):
    parser.add_argument("--members", type=int, default=100_000, help="Leads in the segment added to the campaign.")
    parser.add_argument("--baseline", type=int, default=1_000, help="Leads added one by one for the baseline.")
    parser.add_argument("--seed", type=int, default=11)


def _marketer():
    user, _ = get_user_model().objects.get_or_create(username="bench-marketer")
    user.groups.add(Group.objects.get(name=MARKETING))
    return get_user_model().objects.get(pk=user.pk)


def _leads(n: int, seed: int, out) -> None:
    from devtools.demo.leads import generate_leads

    have = Lead.objects.filter(email__startswith=EMAIL_PREFIX).count()
    if have < n:
        started = time.perf_counter()
        generate_leads(n - have, seed=seed, start=have, email_prefix=EMAIL_PREFIX)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give them
                cursor.execute(f"ANALYZE {Lead._meta.db_table}")
        out.write(f"generated {n - have:,} leads in {time.perf_counter() - started:.1f} s")


def _drop(campaign: Campaign) -> None:
    # Raw delete: cleaning up 100,000 members must not take longer than adding them.
    CampaignMember.objects.filter(campaign=campaign)._raw_delete(CampaignMember.objects.db)
    campaign.delete()


def run(options, out) -> dict:
    n, baseline_n = options["members"], options["baseline"]
    _leads(n, options["seed"], out)
    segment, _ = Segment.objects.update_or_create(
        name=SEGMENT_NAME, defaults={"definition": {"field": "email", "op": "starts_with", "value": EMAIL_PREFIX}}
    )
    actor = _marketer()
    for stale in Campaign.objects.filter(name__startswith="Bench: "):
        _drop(stale)
    # Both runs commit, so the deferred foreign-key checks are part of what is timed.
    campaign = Campaign.objects.create(name="Bench: set-based add", kind=CampaignKind.WEBINAR, owner=actor)
    other = Campaign.objects.create(name="Bench: one by one", kind=CampaignKind.WEBINAR, owner=actor)
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            added = campaign_members_add_from_segment(campaign_id=campaign.pk, segment_id=segment.pk, actor=actor).added
            set_based_s = time.perf_counter() - started
        lead_ids = list(
            Lead.objects.filter(email__startswith=EMAIL_PREFIX, do_not_contact=False)
            .order_by("pk")
            .values_list("pk", flat=True)[:baseline_n]
        )
        started = time.perf_counter()
        for lead_id in lead_ids:
            campaign_member_add(campaign_id=other.pk, lead_id=lead_id, actor=actor)
        loop_s = time.perf_counter() - started
        counted = CampaignMember.objects.filter(campaign=campaign).count()
    finally:
        _drop(campaign)
        _drop(other)
    if counted != added:
        raise RuntimeError(f"added {added} but {counted} members exist")

    per_member_loop = loop_s / max(1, len(lead_ids))
    loop_extrapolated_s = per_member_loop * added
    out.write(f"database: {connection.vendor}")
    out.write(f"set-based add: {added:,} members in {set_based_s:.2f} s, {len(queries)} queries")
    out.write(
        f"baseline one-by-one: {len(lead_ids):,} members in {loop_s:.2f} s "
        f"({per_member_loop * 1000:.2f} ms each; {loop_extrapolated_s:.1f} s extrapolated to {added:,})"
    )
    out.write(f"speed-up: {loop_extrapolated_s / set_based_s:.0f}x" if set_based_s else "speed-up: n/a")
    return {
        "benchmark": "campaign_members",
        "database": connection.vendor,
        "members_added": added,
        "set_based_seconds": round(set_based_s, 3),
        "set_based_queries": len(queries),
        "baseline_members": len(lead_ids),
        "baseline_seconds": round(loop_s, 3),
        "baseline_extrapolated_seconds": round(loop_extrapolated_s, 1),
    }


BENCHMARKS = {"campaign_members": (add_arguments, run)}
