"""Realistic lead data for demos and benchmarks, inserted set-based.

People come from the UCI Bank Marketing call list shipped in `devtools/demo/data/bank-marketing/`
(CC BY 4.0, see the README there): each generated lead takes one real row's attributes
(job, age, education, marital status, loans, how they were contacted, previous campaign
outcome) as its custom attributes and title, cycling through the file. Names, companies and
e-mail addresses are synthetic and deterministic for a given seed.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import random
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from django.db import connection
from django.utils import timezone

from leads.models import LEAD_PROFILE_FIELDS, Lead, LeadSource, LifecycleStage

BANK_CSV = Path(__file__).resolve().parent / "data" / "bank-marketing" / "bank-additional-full.csv"

FIRST_NAMES = (
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elena",
    "Filipe",
    "Greta",
    "Hugo",
    "Inês",
    "João",
    "Katrin",
    "Luis",
    "Marta",
    "Nuno",
    "Olga",
    "Pedro",
    "Rita",
    "Sofia",
    "Tiago",
    "Ursula",
    "Vera",
    "Wim",
    "Xavier",
    "Yara",
    "Zoe",
)
LAST_NAMES = (
    "Almeida",
    "Becker",
    "Costa",
    "Duarte",
    "Esteves",
    "Ferreira",
    "Gomes",
    "Hansen",
    "Ivanova",
    "Jansen",
    "Keller",
    "Lopes",
    "Martins",
    "Novak",
    "Oliveira",
    "Pereira",
    "Quintas",
    "Rocha",
    "Silva",
    "Teixeira",
)
INDUSTRIES = ("software", "finance", "retail", "manufacturing", "healthcare", "logistics", "education", "energy")
# (country, time zone, phone calling code, a local number's first digits, its remaining digits):
# a lead's number, country and zone agree, so the "local time" a rep sees is where the phone rings.
COUNTRIES = (
    ("PT", "Europe/Lisbon", "+351", "21", 7),
    ("ES", "Europe/Madrid", "+34", "91", 7),
    ("DE", "Europe/Berlin", "+49", "30", 8),
    ("FR", "Europe/Paris", "+33", "1", 8),
    ("NL", "Europe/Amsterdam", "+31", "20", 7),
    ("GB", "Europe/London", "+44", "20", 8),
    ("US", "America/New_York", "+1", "212", 7),
)
CALLING_CODES = {country: code for country, _tz, code, _area, _digits in COUNTRIES}
TIME_ZONES = {country: tz for country, tz, _code, _area, _digits in COUNTRIES}


def demo_phone(country: str, number: int) -> str:
    """A number of ``country`` (one of COUNTRIES) from a random ``number`` of 8 digits."""
    _country, _tz, code, area, digits = next(row for row in COUNTRIES if row[0] == country)
    return f"{code} {area} {number % 10**digits:0{digits}d}"


COMPANY_WORDS = (
    "Atlas",
    "Boreal",
    "Cobalt",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Ion",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orion",
    "Pinnacle",
    "Quartz",
    "Raven",
    "Summit",
    "Tidal",
)
COMPANY_SUFFIX = ("Systems", "Bank", "Retail", "Works", "Health", "Logistics", "Labs", "Energy", "Group", "Partners")
JOB_TITLES = {
    "admin.": "Office Administrator",
    "blue-collar": "Operations Technician",
    "entrepreneur": "Founder & CEO",
    "housemaid": "Facilities Assistant",
    "management": "Head of Operations",
    "retired": "Advisor",
    "self-employed": "Independent Consultant",
    "services": "Service Manager",
    "student": "Intern",
    "technician": "IT Technician",
    "unemployed": "Job Seeker",
    "unknown": "",
}
SOURCES = (
    LeadSource.WEB_FORM,
    LeadSource.IMPORT,
    LeadSource.EVENT,
    LeadSource.REFERRAL,
    LeadSource.PAID_ADS,
    LeadSource.PARTNER,
    LeadSource.OUTBOUND,
)


@lru_cache(maxsize=1)
def bank_rows() -> tuple[dict, ...]:
    with BANK_CSV.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle, delimiter=";"))


def bank_attributes(row: dict) -> dict:
    """The attributes a lead may be scored on. `duration` (known only after the call) and the
    outcome `y` are never copied onto a lead."""
    return {
        "age": int(row["age"]),
        "job": row["job"],
        "marital": row["marital"],
        "education": row["education"],
        "credit_default": row["default"],
        "housing_loan": row["housing"],
        "personal_loan": row["loan"],
        "contact_channel": row["contact"],
        "previous_contacts": int(row["previous"]),
        "previous_outcome": row["poutcome"],
    }


def lead_values(index: int, *, seed: int, now: datetime.datetime, email_prefix: str = "lead") -> dict:
    """Field values of the `index`-th generated lead: the same for the same (index, seed)."""
    rng = random.Random(seed * 1_000_003 + index)
    rows = bank_rows()
    row = rows[(index * 7919 + seed) % len(rows)]
    company_no = rng.randrange(4000)
    company = (
        f"{COMPANY_WORDS[company_no % 20]} {COMPANY_SUFFIX[(company_no // 20) % 10]} {company_no // 200 or ''}".strip()
    )
    domain = f"{company.lower().replace(' ', '-').replace('&', 'and')}.example"
    country, tz, *_phone = COUNTRIES[rng.randrange(len(COUNTRIES))]
    first, last = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))], LAST_NAMES[rng.randrange(len(LAST_NAMES))]
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{email_prefix}{index}.{first.lower()}@{domain}".replace("ê", "e").replace("ã", "a"),
        "phone": demo_phone(country, rng.randrange(10**7, 10**8)),
        "title": JOB_TITLES.get(row["job"], row["job"].title()),
        "company": company,
        "company_domain": domain,
        "industry": INDUSTRIES[company_no % len(INDUSTRIES)],
        "employees": int(rng.lognormvariate(4.5, 1.4)) + 1,
        "country": country,
        "timezone": tz,
        "source": str(SOURCES[rng.randrange(len(SOURCES))].value),
        "custom_attributes": bank_attributes(row),
        "email_opt_in": rng.random() < 0.6,
        "do_not_call": rng.random() < 0.03,
        "do_not_contact": rng.random() < 0.01,
        "created_at": now - datetime.timedelta(days=rng.uniform(0, 120)),
        "outcome_positive": row["y"] == "yes",
    }


COPY_COLUMNS = (
    *LEAD_PROFILE_FIELDS,
    "custom_attributes",
    "email_opt_in",
    "do_not_call",
    "do_not_contact",
    "stage",
    "fit_score",
    "engagement_score",
    "score",
    "score_breakdown",
    "created_at",
    "updated_at",
)


def _rows(indexes, *, seed: int, now, email_prefix: str) -> Iterator[dict]:
    for index in indexes:
        values = lead_values(index, seed=seed, now=now, email_prefix=email_prefix)
        values.pop("outcome_positive")
        yield values


def generate_leads(n: int, *, seed: int = 42, start: int = 0, email_prefix: str = "lead", batch: int = 20_000) -> int:
    """Insert leads ``start .. start+n-1`` in stage NEW, set-based: PostgreSQL COPY, or
    ``bulk_create`` in batches elsewhere. The caller makes sure those emails are not taken."""
    now = timezone.now()
    indexes = range(start, start + n)
    if connection.vendor == "postgresql":
        table = Lead._meta.db_table
        # Columns a generated lead does not set start as a new, unscored lead; any other
        # NOT NULL column with a model default (added by later migrations) takes that default,
        # since COPY does not apply Django's defaults.
        unset = {
            "stage": LifecycleStage.NEW,
            "fit_score": 0,
            "engagement_score": 0.0,
            "score": 0.0,
            "score_breakdown": "[]",
            "updated_at": now,
        }
        copy_columns = list(COPY_COLUMNS)
        for field in Lead._meta.concrete_fields:
            if field.primary_key or field.generated or field.null or field.column in copy_columns:
                continue
            if field.has_default():
                default = field.get_default()
                unset[field.column] = json.dumps(default) if field.get_internal_type() == "JSONField" else default
                copy_columns.append(field.column)
        columns = ", ".join(copy_columns)
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for values in _rows(indexes, seed=seed, now=now, email_prefix=email_prefix):
                values["custom_attributes"] = json.dumps(values["custom_attributes"])
                copy.write_row([values[c] if c in values else unset[c] for c in copy_columns])
        return n
    buffer: list[Lead] = []
    for values in _rows(indexes, seed=seed, now=now, email_prefix=email_prefix):
        buffer.append(Lead(**values))
        if len(buffer) >= batch:
            Lead.objects.bulk_create(buffer)
            buffer.clear()
    Lead.objects.bulk_create(buffer)
    return n


def csv_text(n: int, *, seed: int = 42, start: int = 0, email_prefix: str = "import") -> str:
    """The same generated leads as a CSV file (header + n rows), for import tests and benchmarks."""
    out = io.StringIO()
    fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "company",
        "company_domain",
        "industry",
        "employees",
        "country",
        "source",
    ]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    now = timezone.now()
    for values in _rows(range(start, start + n), seed=seed, now=now, email_prefix=email_prefix):
        writer.writerow(values)
    return out.getvalue()
