import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.api import segment_contains, segment_member_q
from leads.models import EngagementEvent, Lead, LeadSource, LifecycleStage
from leads.segments import compile_definition, explain_definition, validate_definition
from leads.services import lead_engagement_refresh
from tests.leads.factories import EngagementEventFactory, LeadFactory, SegmentFactory
from tests.leads.segment_oracle import evaluate

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


def errors_of(definition) -> dict:
    with pytest.raises(ValidationError) as info:
        validate_definition(definition)
    return info.value.message_dict


# --- validation ----------------------------------------------------------------------------


def test_an_unknown_field_is_refused_naming_its_path():
    errors = errors_of(
        {"all": [{"field": "industry", "op": "eq", "value": "x"}, {"field": "shoe_size", "op": "eq", "value": 1}]}
    )
    assert errors == {"definition.all.1.field": ["Unknown field 'shoe_size'."]}


def test_an_operator_that_does_not_fit_the_type_is_refused():
    errors = errors_of({"any": [{"not": {"field": "industry", "op": "gt", "value": 3}}]})
    assert list(errors) == ["definition.any.0.not.op"]
    assert "does not apply to text field 'industry'" in errors["definition.any.0.not.op"][0]


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ({"field": "employees", "op": "eq", "value": "many"}, "whole number"),
        ({"field": "employees", "op": "between", "value": [10, 1]}, "low <= high"),
        ({"field": "stage", "op": "eq", "value": "hot"}, "not one of"),
        ({"field": "created_at", "op": "gt", "value": "yesterday"}, "date"),
        ({"field": "created_at", "op": "within_last_days", "value": -3}, "days"),
        ({"field": "industry", "op": "in", "value": []}, "non-empty list"),
        ({"field": "industry", "op": "contains", "value": "x" * 1001}, "longer than"),
        ({"field": "do_not_call", "op": "eq", "value": "yes"}, "true or false"),
        ({"field": "attr.age", "op": "gt", "value": "old"}, "number"),
        ({"field": "engagement", "op": "at_least", "value": {"kind": "fax", "count": 1, "days": 3}}, "kind"),
        ({"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 0, "days": 3}}, "count"),
    ],
)
def test_a_bad_value_is_refused_with_the_reason(condition, problem):
    errors = errors_of({"all": [condition]})
    assert list(errors) == ["definition.all.0.value"]
    assert problem in errors["definition.all.0.value"][0]


def test_malformed_trees_are_refused():
    assert "definition" in errors_of([1, 2])
    assert "definition.all" in errors_of({"all": {"field": "industry"}})
    assert "definition.all.0" in errors_of({"all": ["industry"]})
    assert "definition" in errors_of({"all": [], "any": []})
    assert "definition.all.0.field" in errors_of({"all": [{"field": "attr.bad name", "op": "eq", "value": 1}]})


def test_a_tree_nested_beyond_the_limit_is_refused(settings):
    settings.SEGMENT_MAX_DEPTH = 2
    errors = errors_of({"all": [{"not": {"all": [{"field": "industry", "op": "eq", "value": "x"}]}}]})
    assert errors == {"definition.all.0.not": ["Nested too deep: at most 2 levels of groups are allowed."]}


def test_an_invalid_segment_does_not_compile():
    with pytest.raises(ValidationError):
        segment_member_q(SegmentFactory.build(definition={"all": [{"field": "nope", "op": "eq", "value": 1}]}))


# --- compilation ---------------------------------------------------------------------------


def test_membership_is_one_query_and_matches_the_definition(django_assert_num_queries):
    LeadFactory(industry="software", employees=500, country="DE")
    LeadFactory(industry="software", employees=20, country="DE")
    LeadFactory(industry="retail", employees=900, country="US")
    segment = SegmentFactory(
        definition={
            "all": [
                {"field": "industry", "op": "in", "value": ["software", "finance"]},
                {
                    "any": [
                        {"field": "employees", "op": "gte", "value": 100},
                        {"field": "country", "op": "eq", "value": "US"},
                    ]
                },
            ]
        }
    )
    with django_assert_num_queries(1):
        emails = list(Lead.objects.filter(segment_member_q(segment)).values_list("employees", flat=True))
    assert emails == [500]


def test_segment_contains_answers_for_one_lead():
    inside = LeadFactory(industry="software")
    outside = LeadFactory(industry="retail")
    segment = SegmentFactory(definition={"all": [{"field": "industry", "op": "eq", "value": "software"}]})
    assert segment_contains(segment_id=segment.pk, lead_id=inside.pk) is True
    assert segment_contains(segment_id=segment.pk, lead_id=outside.pk) is False


def test_engagement_counts_only_recent_events_of_the_kind():
    lead = LeadFactory()
    now = timezone.now()
    EngagementEventFactory(lead=lead, kind="webinar", occurred_at=now - datetime.timedelta(days=2))
    EngagementEventFactory(lead=lead, kind="webinar", occurred_at=now - datetime.timedelta(days=40))
    EngagementEventFactory(lead=lead, kind="page_view", occurred_at=now - datetime.timedelta(days=1))

    def members(count, days, kind="webinar"):
        d = {"field": "engagement", "op": "at_least", "value": {"kind": kind, "count": count, "days": days}}
        return Lead.objects.filter(compile_definition(d)).count()

    assert members(1, 7) == 1
    assert members(2, 7) == 0
    assert members(2, 60) == 1
    assert members(3, 60, kind="any") == 1


@pytest.mark.parametrize("kind", ["webinar", "any"])
@pytest.mark.parametrize("count", [1, 2, 10, 11])
def test_engagement_window_includes_its_first_instant_and_nothing_before(kind, count):
    """Count 1 is answered from the latest-event columns, 2-10 from the n-th latest event,
    11 from the events themselves: all count an event at exactly now - days and not one a
    microsecond earlier."""
    since = NOW - datetime.timedelta(days=14)
    tick = datetime.timedelta(microseconds=1)
    on_edge, before_edge = LeadFactory(), LeadFactory()
    for _ in range(count):
        EngagementEventFactory(lead=on_edge, kind="webinar", occurred_at=since)
        EngagementEventFactory(lead=before_edge, kind="webinar", occurred_at=since - tick)
    EngagementEventFactory(lead=before_edge, kind="page_view", occurred_at=NOW)  # another kind, later
    definition = {"field": "engagement", "op": "at_least", "value": {"kind": kind, "count": count, "days": 14}}

    members = set(Lead.objects.filter(compile_definition(definition, now=NOW)).values_list("pk", flat=True))
    outside = set(Lead.objects.filter(compile_definition({"not": definition}, now=NOW)).values_list("pk", flat=True))

    expected_inside = {on_edge.pk} if kind == "webinar" or count > 1 else {on_edge.pk, before_edge.pk}
    assert members == expected_inside
    assert outside == {on_edge.pk, before_edge.pk} - expected_inside


def test_engagement_with_a_fractional_window_uses_the_exact_instant():
    lead = LeadFactory()
    EngagementEventFactory(lead=lead, kind="webinar", occurred_at=NOW - datetime.timedelta(hours=12))
    half_day = {"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 1, "days": 0.5}}
    under_half = {"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 1, "days": 0.49}}

    assert Lead.objects.filter(compile_definition(half_day, now=NOW)).count() == 1
    assert Lead.objects.filter(compile_definition(under_half, now=NOW)).count() == 0


def test_not_of_a_missing_value_matches():
    LeadFactory(employees=None, custom_attributes={})
    assert Lead.objects.filter(compile_definition({"not": {"field": "employees", "op": "gt", "value": 5}})).count() == 1
    assert Lead.objects.filter(compile_definition({"not": {"field": "attr.age", "op": "gt", "value": 5}})).count() == 1
    assert Lead.objects.filter(compile_definition({"field": "attr.age", "op": "neq", "value": 5})).count() == 1


def test_empty_groups_follow_logic():
    LeadFactory()
    count = lambda d: Lead.objects.filter(compile_definition(d)).count()  # noqa: E731
    assert (count({"all": []}), count({"any": []}), count({"not": {"all": []}}), count({"not": {"any": []}})) == (
        1,
        0,
        0,
        1,
    )


def test_explain_says_which_conditions_held(django_assert_num_queries):
    lead = LeadFactory(industry="software", employees=50, custom_attributes={"job": "management"})
    definition = {
        "all": [
            {"field": "industry", "op": "eq", "value": "software"},
            {"not": {"field": "employees", "op": "lt", "value": 100}},
            {"field": "attr.job", "op": "starts_with", "value": "MANAGE"},
        ]
    }
    with django_assert_num_queries(1):
        tree = explain_definition(definition, lead_id=lead.pk)
    assert tree["matched"] is False
    assert [c["matched"] for c in tree["children"]] == [True, False, True]
    assert tree["children"][1]["children"][0] | {"value": None} == {
        "field": "employees",
        "op": "lt",
        "value": None,
        "path": "definition.all.1.not",
        "matched": True,
        "text": "Employees < 100",
    }


# --- property: the compiled SQL equals a brute-force evaluation ----------------------------

TEXTS = ["", "software", "Software", "soft", "finance", "x_y%"]
EDGE_OFFSETS = [
    datetime.timedelta(0),
    datetime.timedelta(microseconds=1),
    -datetime.timedelta(microseconds=1),
    -datetime.timedelta(minutes=30),
    datetime.timedelta(hours=12),
]
attr_values = st.one_of(
    st.just("__missing__"),
    st.none(),
    st.booleans(),
    st.integers(-3, 60),
    st.sampled_from([1.5, 30.0]),
    st.sampled_from(["", "admin.", "Admin", "manager", "30"]),
)
lead_strategy = st.fixed_dictionaries(
    {
        "industry": st.sampled_from(TEXTS),
        "country": st.sampled_from(["DE", "US", ""]),
        "employees": st.one_of(st.none(), st.integers(0, 500)),
        "score": st.sampled_from([0.0, 10.5, 50.0, 99.25]),
        "fit_score": st.integers(-10, 40),
        "email_opt_in": st.booleans(),
        "do_not_contact": st.booleans(),
        "stage": st.sampled_from(LifecycleStage.values),
        "source": st.sampled_from(LeadSource.values),
        "created_days_ago": st.integers(0, 100),
        "qualified_days_ago": st.one_of(st.none(), st.integers(0, 100)),
        "age": attr_values,
        "job": attr_values,
        # (kind, days ago, offset): offsets on and next to a window's first instant (now - days).
        "events": st.lists(
            st.tuples(
                st.sampled_from(["webinar", "page_view", "email_click"]),
                st.integers(0, 30),
                st.sampled_from(EDGE_OFFSETS),
            ),
            max_size=5,
        ),
    }
)

dates = st.integers(0, 100).map(lambda d: (NOW - datetime.timedelta(days=d, hours=6)).isoformat())


def conditions():
    text = st.sampled_from(TEXTS)
    nonempty = st.sampled_from(["soft", "S", "fin", "x_", "%"])
    return st.one_of(
        st.tuples(st.just("industry"), st.sampled_from(["eq", "neq"]), text),
        st.tuples(st.just("industry"), st.sampled_from(["in", "not_in"]), st.lists(text, min_size=1, max_size=3)),
        st.tuples(st.just("industry"), st.sampled_from(["contains", "starts_with"]), nonempty),
        st.tuples(st.sampled_from(["industry", "country"]), st.just("is_empty"), st.booleans()),
        st.tuples(st.just("employees"), st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]), st.integers(0, 500)),
        st.tuples(
            st.just("employees"), st.just("between"), st.tuples(st.integers(0, 250), st.integers(250, 500)).map(list)
        ),
        st.tuples(st.just("employees"), st.just("is_empty"), st.booleans()),
        st.tuples(
            st.just("score"), st.sampled_from(["gt", "gte", "lt", "lte", "eq"]), st.sampled_from([0, 10.5, 50, 60])
        ),
        st.tuples(st.just("fit_score"), st.sampled_from(["in", "not_in"]), st.lists(st.integers(-10, 40), min_size=1)),
        st.tuples(st.sampled_from(["email_opt_in", "do_not_contact"]), st.sampled_from(["eq", "neq"]), st.booleans()),
        st.tuples(
            st.just("stage"),
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(LifecycleStage.values), min_size=1),
        ),
        st.tuples(st.just("source"), st.sampled_from(["eq", "neq"]), st.sampled_from(LeadSource.values)),
        st.tuples(st.sampled_from(["created_at", "qualified_at"]), st.sampled_from(["gt", "lte"]), dates),
        st.tuples(st.sampled_from(["created_at", "qualified_at"]), st.just("within_last_days"), st.integers(1, 120)),
        st.tuples(st.just("qualified_at"), st.just("is_empty"), st.booleans()),
        st.tuples(st.just("attr.age"), st.sampled_from(["gt", "gte", "lt", "lte"]), st.integers(-3, 60)),
        st.tuples(
            st.just("attr.age"),
            st.sampled_from(["eq", "neq"]),
            attr_values.filter(lambda v: v not in (None, "__missing__")),
        ),
        st.tuples(
            st.just("attr.job"),
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(["admin.", "30", 30, True]), min_size=1, max_size=3),
        ),
        st.tuples(
            st.just("attr.job"), st.sampled_from(["contains", "starts_with"]), st.sampled_from(["adm", "A", "3", "ger"])
        ),
        st.tuples(st.sampled_from(["attr.job", "attr.age"]), st.just("is_empty"), st.booleans()),
        st.tuples(
            st.just("engagement"),
            st.just("at_least"),
            st.fixed_dictionaries(
                {
                    "kind": st.sampled_from(["webinar", "page_view", "email_click", "any"]),
                    "count": st.one_of(st.integers(1, 3), st.just(11)),
                    "days": st.one_of(st.integers(1, 30), st.sampled_from([0.5, 1.5, 7.5])),
                }
            ),
        ),
    ).map(lambda t: {"field": t[0], "op": t[1], "value": t[2]})


trees = st.recursive(
    conditions(),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(children, max_size=3).map(lambda xs: {"any": xs}),
        children.map(lambda x: {"not": x}),
    ),
    max_leaves=6,
)


def _lead_row(index: int, spec: dict) -> dict:
    attrs = {}
    for name in ("age", "job"):
        if spec[name] != "__missing__":
            attrs[name] = spec[name]
    qualified = spec["qualified_days_ago"]
    return {
        "email": f"p{index}@example.com",
        "industry": spec["industry"],
        "country": spec["country"],
        "employees": spec["employees"],
        "score": spec["score"],
        "fit_score": spec["fit_score"],
        "email_opt_in": spec["email_opt_in"],
        "do_not_contact": spec["do_not_contact"],
        "stage": spec["stage"],
        "source": spec["source"],
        "created_at": NOW - datetime.timedelta(days=spec["created_days_ago"]),
        "qualified_at": None if qualified is None else NOW - datetime.timedelta(days=qualified, hours=1),
        "custom_attributes": attrs,
    }


class _Rollback(Exception):
    pass


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(leads=st.lists(lead_strategy, min_size=1, max_size=6), definition=trees)
def test_compiled_segments_equal_a_brute_force_evaluation(leads, definition):
    try:
        with transaction.atomic():
            expected = set()
            for index, spec in enumerate(leads):
                row = _lead_row(index, spec)
                lead = Lead.objects.create(**row)
                events = [(kind, NOW - datetime.timedelta(days=days) + offset) for kind, days, offset in spec["events"]]
                EngagementEvent.objects.bulk_create(
                    [EngagementEvent(lead=lead, kind=kind, occurred_at=at) for kind, at in events]
                )
                lead_engagement_refresh(lead_ids=[lead.pk])
                if evaluate(definition, row, events, NOW):
                    expected.add(lead.pk)
            actual = set(Lead.objects.filter(compile_definition(definition, now=NOW)).values_list("pk", flat=True))
            assert actual == expected, definition
            raise _Rollback
    except _Rollback:
        pass
