import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.imports import leads_import
from leads.models import ImportStatus, Lead, LeadImport
from tests.leads.factories import LeadFactory
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker():
    with task_sends("leads.tasks.lead_import_run_task"):  # no task reaches a broker
        yield


def run(text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    kwargs.setdefault("dry_run", False)
    return leads_import(stream=io.BytesIO(data), **kwargs)


def errors(report) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in report.errors]


GOOD = "email,first_name,company,employees,country\nana@acme.example,Ana,Acme,120,pt\nbo@beta.example,Bo,Beta,,DE\n"


def test_a_dry_run_reports_what_would_happen_and_writes_nothing():
    LeadFactory(email="bo@beta.example")
    report = run(GOOD, dry_run=True, update_existing=True)
    assert (report.rows, report.created, report.updated, report.rejected) == (2, 1, 1, 0)
    assert Lead.objects.count() == 1


def test_the_real_run_does_what_the_dry_run_said():
    LeadFactory(email="BO@beta.example", company="Old")
    dry = run(GOOD, dry_run=True, update_existing=True)
    real = run(GOOD, update_existing=True)
    assert (dry.created, dry.updated, dry.rejected) == (real.created, real.updated, real.rejected) == (1, 1, 0)
    ana = Lead.objects.get(email="ana@acme.example")
    assert (ana.company, ana.employees, ana.country, ana.source) == ("Acme", 120, "PT", "import")
    assert Lead.objects.get(email__iexact="bo@beta.example").company == "Beta"


def test_every_bad_row_is_reported_with_line_column_and_reason_and_the_rest_is_imported():
    text = (
        "email,first_name,company,employees\n"
        "ok1@x.example,A,Acme,10\n"
        "not-an-email,B,Beta,10\n"
        "ok2@x.example,=cmd|' /C calc'!A0,Gamma,10\n"
        "ok3@x.example,C,Delta,lots\n"
        "OK1@x.example,Dup,Acme,10\n"
        "ok4@x.example,D\n"
        f"ok5@x.example,E,{'x' * 3000},1\n"
        "ok6@x.example,F,+Plus,-5\n"
        ",G,NoEmail,1\n"
        "ok7@x.example,G,Fine Co,7\n"
    )
    report = run(text)
    assert (report.rows, report.created, report.rejected) == (10, 2, 8)
    assert errors(report) == [
        (3, "email", "'not-an-email' is not a valid email address"),
        (4, "first_name", "starts with '=', which a spreadsheet would run as a formula"),
        (5, "employees", "'lots' is not a whole number"),
        (6, "email", "duplicate of row 2 (ok1@x.example)"),
        (7, "*", "has 2 values but the header has 4 columns"),
        (8, "company", "longer than 2000 characters"),
        (9, "company", "starts with '+', which a spreadsheet would run as a formula"),
        (9, "employees", "must be between 0 and 10000000"),
        (10, "email", "an email address is required"),
    ]
    assert set(Lead.objects.values_list("email", flat=True)) == {"ok1@x.example", "ok7@x.example"}


def test_an_existing_email_is_rejected_unless_updating():
    LeadFactory(email="ana@acme.example")
    report = run(GOOD)
    assert report.created == 1 and report.rejected == 1
    assert "already exists" in report.errors[0].reason


def test_a_phone_number_with_a_plus_is_not_a_formula():
    report = run("email,first_name,phone\nana@acme.example,Ana,+351 21 234 5678\n")
    assert report.created == 1
    assert Lead.objects.get().phone == "+351 21 234 5678"


@pytest.mark.parametrize(
    ("data", "failure"),
    [
        (b"email,company\nana@x.example,Caf\xe9 Lda\n", "Line 2 is not valid UTF-8"),
        (b"", "The file is empty"),
        (b"first_name,company\nAna,Acme\n", "no email column"),
        (b"email,shoe_size\na@x.example,42\n", "Unknown columns: 'shoe_size'"),
        (b"email,E-mail\na@x.example,b@x.example\n", "both map to 'email'"),
        (b"email,,company\na@x.example,,C\n", "Column 2 has no name"),
        (b"email\x00,x\n", "NUL bytes"),
    ],
)
def test_a_bad_file_is_refused_as_a_whole_and_nothing_is_stored(data, failure):
    report = run(data)
    assert failure in report.failure
    assert not Lead.objects.exists()


def test_semicolons_a_bom_aliases_mapping_and_attributes_are_understood():
    text = "\ufeffE-mail;First Name;Org;attr.age;Notes\nana@x.example;Ana;Acme;41;ignore me\n"
    report = run(text.encode("utf-8"), mapping={"Org": "company", "Notes": ""})
    assert report.created == 1, report.failure
    lead = Lead.objects.get()
    assert (lead.first_name, lead.company, lead.custom_attributes) == ("Ana", "Acme", {"age": 41})


def test_new_leads_are_scored_by_a_task_enqueued_after_each_batch_commits(django_capture_on_commit_callbacks):
    from leads.tasks import leads_score_batch_task
    from tests.leads.factories import ScoringRuleFactory

    ScoringRuleFactory(field="industry", operator="eq", value="software", points=9)
    with (
        task_sends("leads.tasks.leads_score_batch_task") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run("email,first_name,industry\nana@x.example,Ana,software\nbo@x.example,Bo,retail\n")
    lead_ids = sorted(Lead.objects.values_list("pk", flat=True))
    delay.assert_called_once_with(lead_ids)
    assert leads_score_batch_task(lead_ids) == 2
    assert Lead.objects.get(email="ana@x.example").fit_score == 9


def test_large_files_are_processed_in_batches_with_progress():
    rows = "".join(f"p{i}@x.example,P{i}\n" for i in range(25))
    seen = []
    report = run("email,first_name\n" + rows, batch_size=10, progress=lambda r, pos: seen.append(r.created))
    assert report.created == 25
    assert seen == [10, 20, 25]


def test_the_command_reports_and_fails_clearly(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("email,first_name\nana@x.example,Ana\nbad,Bo\n")
    out = io.StringIO()
    call_command("import_leads", str(path), "--dry-run", stdout=out)
    assert "Would import 2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected." in out.getvalue()
    assert "row 3, column email: 'bad' is not a valid email address" in out.getvalue()
    assert not Lead.objects.exists()
    call_command("import_leads", str(path), stdout=io.StringIO())
    assert Lead.objects.count() == 1
    (tmp_path / "latin.csv").write_bytes(b"email\n\xe9@x.example\n")
    with pytest.raises(CommandError, match="not valid UTF-8"):
        call_command("import_leads", str(tmp_path / "latin.csv"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot open"):
        call_command("import_leads", str(tmp_path / "missing.csv"))


# --- the upload page ---------------------------------------------------------------------------


def test_a_marketer_uploads_a_file_and_the_worker_runs_it(client_for, marketer, django_capture_on_commit_callbacks):
    from leads.tasks import lead_import_run_task

    upload = SimpleUploadedFile("people.csv", b"email,first_name\nana@x.example,Ana\nbad,Bo\n", content_type="text/csv")
    client = client_for(marketer)
    with (
        task_sends("leads.tasks.lead_import_run_task") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post("/marketing/imports/", {"file": upload, "dry_run": ""})
    job = LeadImport.objects.get()
    assert response.status_code == 302
    delay.assert_called_once_with(job.pk)

    lead_import_run_task(job.pk)
    lead_import_run_task(job.pk)  # a duplicate delivery does nothing

    job.refresh_from_db()
    assert (job.status, job.created_count, job.rejected_count, job.percent) == (ImportStatus.DONE, 1, 1, 100)
    assert job.errors == [{"row": 3, "column": "email", "reason": "'bad' is not a valid email address"}]
    assert Lead.objects.count() == 1
    partial = client.get(f"/marketing/imports/{job.pk}/", HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in partial.content  # finished: polling stops
    assert b"&#x27;bad&#x27; is not a valid email address" in partial.content


def test_a_pending_import_page_polls_for_progress(client_for, marketer):
    job = LeadImport.objects.create(original_name="x.csv", file="imports/x.csv", size_bytes=100, created_by=marketer)
    content = client_for(marketer).get(f"/marketing/imports/{job.pk}/").content
    assert b'hx-trigger="every 1s"' in content
    assert b'<progress id="import-bar" max="100" value="0">' in content


def test_a_non_csv_upload_is_refused(client_for, marketer):
    upload = SimpleUploadedFile("people.xlsx", b"PK\x03\x04", content_type="application/octet-stream")
    response = client_for(marketer).post("/marketing/imports/", {"file": upload})
    assert response.status_code == 400
    assert b"Upload a .csv file." in response.content
    assert not LeadImport.objects.exists()


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_reps_and_managers_cannot_import(client_for, request, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/marketing/imports/").status_code == 403
    upload = SimpleUploadedFile("p.csv", b"email\na@x.example\n")
    assert client.post("/marketing/imports/", {"file": upload}).status_code == 403
    assert not LeadImport.objects.exists()


def test_the_import_list_takes_a_constant_number_of_queries(client_for, marketer, count_queries):
    client = client_for(marketer)
    LeadImport.objects.create(original_name="a.csv", file="imports/a.csv", created_by=marketer)
    client.get("/marketing/imports/")
    few = count_queries(lambda: client.get("/marketing/imports/"))
    for i in range(8):
        LeadImport.objects.create(original_name=f"{i}.csv", file=f"imports/{i}.csv", created_by=marketer)
    assert count_queries(lambda: client.get("/marketing/imports/")) == few


# --- property: the parser never loses or invents a row -----------------------------------------

cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
email = st.one_of(st.from_regex(r"[a-c]{1,3}@x\.example", fullmatch=True), cell)
rows = st.lists(st.tuples(email, cell, st.one_of(st.integers(0, 99).map(str), cell)), max_size=12)


class _Rollback(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows, dry_run=st.booleans())
def test_every_row_is_created_or_rejected_with_a_reason(rows, dry_run):
    out = io.StringIO()
    writer = csv.writer(out)  # the default \r\n terminator quotes cells holding \r or \n
    writer.writerow(["email", "first_name", "employees"])
    writer.writerows(rows)
    try:
        with transaction.atomic():
            report = run(out.getvalue().encode(), dry_run=dry_run)
            assert report.failure == ""
            non_blank = [r for r in rows if any(c.strip() for c in r)]
            assert report.rows == len(non_blank)
            assert report.created + report.updated + report.unchanged + report.rejected == report.rows
            assert len({e.row for e in report.errors}) == report.rejected
            assert Lead.objects.count() == (0 if dry_run else report.created)
            raise _Rollback
    except _Rollback:
        pass


# --- issue 21 item 5: a new lead needs a name (a per-row error, not a warning) ------------------


def test_a_row_that_would_create_a_lead_without_a_name_is_a_row_error_naming_the_column():
    report = run("email,First Name,company\nana@x.example,Ana,Acme\nnobody@x.example,,Beta\n")

    assert (report.created, report.rejected) == (1, 1)
    assert errors(report) == [(3, "First Name", "a new lead needs a name: fill in first_name or last_name")]
    assert not Lead.objects.filter(email="nobody@x.example").exists()


def test_a_last_name_alone_is_enough_and_a_dry_run_reports_the_nameless_row_too():
    text = "email,first_name,last_name\nana@x.example,,Silva\nnobody@x.example,  ,\n"
    dry = run(text, dry_run=True)
    assert (dry.created, dry.rejected) == (1, 1)
    assert run(text).created == 1
    assert Lead.objects.get().last_name == "Silva"


def test_a_file_without_a_name_column_reports_every_new_row_but_still_updates_existing_leads():
    LeadFactory(email="known@x.example", first_name="Kim", industry="retail")
    report = run("email,industry\nknown@x.example,software\nnew@x.example,software\n", update_existing=True)

    assert (report.updated, report.created, report.rejected) == (1, 0, 1)
    assert errors(report) == [(3, "first_name", "a new lead needs a name: fill in first_name or last_name")]
    assert Lead.objects.get(email="known@x.example").industry == "software"


def test_an_existing_email_error_shows_no_internal_id():
    LeadFactory(email="ana@acme.example")
    report = run(GOOD)
    assert errors(report)[0][2] == "a lead with this email already exists; use update existing"


def test_imported_rows_get_every_default_and_one_lead_created_event_each():
    from leads.signals import lead_events

    seen = []

    def receiver(sender, event, payloads, **kwargs):
        seen.extend((event, p["lead"], p["email"], p["source"], p["stage"]) for p in payloads)

    lead_events.connect(receiver, dispatch_uid="test-import-events")
    try:
        report = run("email,first_name,attr.tier\nAna@Acme.example,Ana,gold\nbo@beta.example,Bo,\n")
    finally:
        lead_events.disconnect(dispatch_uid="test-import-events")
    assert report.created == 2
    ana, bo = Lead.objects.order_by("email")
    assert seen == [
        ("lead.created", ana.pk, "ana@acme.example", "import", "new"),
        ("lead.created", bo.pk, "bo@beta.example", "import", "new"),
    ]
    assert (ana.custom_attributes, bo.custom_attributes) == ({"tier": "gold"}, {})
    for lead in (ana, bo):
        assert (lead.stage, lead.score, lead.fit_score, lead.score_breakdown, lead.engagement_raw) == (
            "new",
            0.0,
            0,
            [],
            {},
        )
        assert (lead.timezone, lead.email_opt_in, lead.do_not_profile, lead.owner_id) == ("UTC", False, False, None)
        assert lead.created_at is not None and lead.updated_at == lead.created_at


# --- re-delivery: a run killed mid-file, then run again ----------------------------------------


class WorkerKilled(BaseException):
    """Stands for the pool process dying (SIGKILL): no handler of the import sees it."""


RESUMED_FILE = "email,first_name\n" + "".join(
    f"p{i}@x.example,{'' if i == 4 else f'P{i}'}\n" if i != 6 else "bad,Bo\n" for i in range(1, 11)
)


def _job(marketer, text: str) -> LeadImport:
    upload = SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")
    return LeadImport.objects.create(
        file=upload, original_name="people.csv", size_bytes=len(text), dry_run=False, created_by=marketer
    )


def test_an_import_killed_mid_file_finishes_on_redelivery_with_each_row_once(marketer, monkeypatch):
    from leads import imports
    from leads.tasks import lead_import_run_task

    clean = imports.lead_import_run(import_id=_job(marketer, RESUMED_FILE).pk, batch_size=3)
    expected = (clean.created_count, clean.rejected_count, clean.error_count, clean.errors)
    Lead.objects.all().delete()
    job = _job(marketer, RESUMED_FILE)
    real_write = imports._write_batch
    calls = []

    def dies_in_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise WorkerKilled
        return real_write(*args, **kwargs)

    monkeypatch.setattr(imports, "_write_batch", dies_in_the_second_batch)
    with pytest.raises(WorkerKilled):
        imports.lead_import_run(import_id=job.pk, batch_size=3)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and Lead.objects.count() == 3  # the first batch only

    monkeypatch.setattr(imports, "_write_batch", real_write)
    imports.lead_import_run(import_id=job.pk, batch_size=3)  # the re-delivered task
    lead_import_run_task(job.pk)  # and a duplicate after it finished

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.rejected_count, job.error_count, job.errors) == expected
    assert expected[:2] == (8, 2)
    assert sorted(Lead.objects.values_list("email", flat=True)) == sorted(
        f"p{i}@x.example" for i in range(1, 11) if i not in (4, 6)
    )
    assert not any("already exists" in e["reason"] for e in job.errors)


def test_the_import_task_is_redelivered_when_its_worker_dies():
    from leads.tasks import lead_import_run_task

    assert lead_import_run_task.acks_late and lead_import_run_task.reject_on_worker_lost
