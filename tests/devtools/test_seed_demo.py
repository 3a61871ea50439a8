import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Assignment, Deal
from devtools.demo.seed import demo_counts
from leads.models import Lead, LeadTransition, LifecycleStage
from tests.leads.latest_events import assert_columns_match_events

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_gives_the_same_counts():
    call_command("seed_demo", leads=300, reps=3, force=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = demo_counts()

    call_command("seed_demo", leads=300, reps=3, force=True, stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert demo_counts() == first
    assert first["leads"] == 300 and first["users"] == 5


def test_seed_demo_fills_every_app_and_records_every_stage_in_history():
    call_command("seed_demo", leads=400, reps=2, force=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = demo_counts()

    for key in ("assignments", "calls", "objections", "deals", "campaign_members", "events", "segments", "rules"):
        assert counts[key] > 0, key
    moved = Lead.objects.exclude(stage=LifecycleStage.NEW)
    assert moved.exists()
    for lead in moved[:50]:
        assert LeadTransition.objects.filter(lead=lead).order_by("-at", "-id").first().to_stage == lead.stage
    assert Assignment.objects.active().values("lead").distinct().count() == Assignment.objects.active().count()
    assert Deal.objects.filter(lead__isnull=False).exists()


def test_seed_demo_leads_latest_event_columns_agree_with_their_events():
    call_command("seed_demo", leads=200, reps=2, force=True, stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert Lead.objects.filter(last_engaged_at__isnull=False).exists()
    assert_columns_match_events()


def test_seed_demo_is_deterministic_for_a_seed():
    call_command("seed_demo", leads=150, reps=2, seed=7, force=True, stdout=open("/dev/null", "w"))  # noqa: SIM115

    stages = sorted(Lead.objects.values_list("email", "stage"))
    Lead.objects.all().delete()
    call_command("seed_demo", leads=150, reps=2, seed=7, force=True, stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert sorted(Lead.objects.values_list("email", "stage")) == stages


def test_seed_demo_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", leads=10)
    assert not Lead.objects.exists()


@pytest.mark.parametrize(("option", "value"), [("leads", -1), ("reps", 0)])
def test_seed_demo_rejects_out_of_range_sizes(option, value):
    with pytest.raises(CommandError, match=f"--{option}"):
        call_command("seed_demo", force=True, **{option: value})


# Calling code -> (country, time zone), written out here rather than read from the generator.
CALLING_CODES = {
    "+351": ("PT", "Europe/Lisbon"),
    "+34": ("ES", "Europe/Madrid"),
    "+49": ("DE", "Europe/Berlin"),
    "+33": ("FR", "Europe/Paris"),
    "+31": ("NL", "Europe/Amsterdam"),
    "+44": ("GB", "Europe/London"),
    "+1": ("US", "America/New_York"),
}


def test_seed_demo_gives_every_lead_a_phone_of_its_own_country_and_zone():
    call_command("seed_demo", leads=300, reps=2, force=True, stdout=open("/dev/null", "w"))  # noqa: SIM115

    rows = list(Lead.objects.values_list("phone", "country", "timezone"))
    assert len({country for _, country, _ in rows}) >= 5
    for phone, country, zone in rows:
        code = phone.split(" ", 1)[0]
        assert CALLING_CODES.get(code) == (country, zone), (phone, country, zone)
