"""Example bodies of the leads API's OpenAPI schema (tests/foundation/test_api_examples.py
checks that each validates against its operation's schema)."""

from config.api.schema import request_example

LEAD_EXAMPLE = {
    "id": 42,
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@analytical.example",
    "phone": "+44 20 7946 0000",
    "title": "CTO",
    "company": "Analytical Engines",
    "company_domain": "analytical.example",
    "industry": "software",
    "employees": 120,
    "country": "GB",
    "timezone": "Europe/London",
    "source": "api",
    "custom_attributes": {"plan": "pro"},
    "email_opt_in": True,
    "do_not_call": False,
    "do_not_contact": False,
    "do_not_profile": False,
    "stage": "new",
    "fit_score": 40,
    "engagement_score": 0.0,
    "learned_score": None,
    "score": 40.0,
    "score_breakdown": [{"label": "Industry is software", "points": 40}],
    "qualified_at": None,
    "owner": None,
    "created_at": "2026-05-04T09:30:00Z",
    "updated_at": "2026-05-04T09:30:00Z",
}
SEGMENT_DEFINITION = {"all": [{"field": "industry", "op": "eq", "value": "software"}]}
SEGMENT_REQUEST_EXAMPLE = request_example(
    "Software companies",
    {"name": "Software", "description": "Every software company", "definition": SEGMENT_DEFINITION, "is_icp": True},
)
