"""CSV import of leads: streamed, validated row by row, deduplicated, in batches.

One bad row never stops or corrupts the rest: every row is validated before its batch is
written, and a rejected row is reported with its line number, column and reason. A problem
with the whole file (not UTF-8, no header, unknown or duplicate columns, no email column) is
reported before anything is written. A dry run does everything but write.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from . import enqueue
from .consent import consent_changes_from_flags, consents_record_many
from .intake import (
    API_DEFAULT_SOURCE,
    ATTR_NAME,
    ATTR_PREFIX,
    LEAD_FIELDS,
    api_field_name,
    api_lead_input,
    lead_values_clean,
)
from .models import ConsentSource, ImportStatus, Lead, LeadImport, LeadSource, LifecycleStage
from .signals import lead_events_announce

HEADER_ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "firstname": "first_name",
    "first": "first_name",
    "given_name": "first_name",
    "lastname": "last_name",
    "last": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "job_title": "title",
    "company_name": "company",
    "organisation": "company",
    "organization": "company",
    "domain": "company_domain",
    "website_domain": "company_domain",
    "employee_count": "employees",
    "headcount": "employees",
    "phone_number": "phone",
    "telephone": "phone",
    "country_code": "country",
    "time_zone": "timezone",
}
CHUNK = 1 << 20
NEW_STAGE = LifecycleStage.NEW


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    failure: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    max_errors: int = 1000

    def reject(self, row: int, problems: list[tuple[str, str]]) -> None:
        self.rejected += 1
        for column, reason in problems:
            self.error_count += 1
            if len(self.errors) < self.max_errors:
                self.errors.append(RowError(row, column, reason))

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "error_count": self.error_count,
            "errors": [e.__dict__ for e in self.errors],
            "failure": self.failure,
        }


def _normalise(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def encoding_problem(stream) -> str:
    """Scan the whole (seekable) binary stream as UTF-8 without holding it; '' when fine."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    stream.seek(0)
    while True:
        chunk = stream.read(CHUNK)
        final = not chunk
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            bad_line = line + chunk[: max(exc.start, 0)].count(b"\n")
            return (
                f"Line {bad_line} is not valid UTF-8 (byte {offset + exc.start}); "
                "save the file as UTF-8 (CSV UTF-8) and upload it again."
            )
        if "\x00" in text:
            return "The file contains NUL bytes; it is not a text CSV file."
        line += text.count("\n")
        offset += len(chunk)
        if final:
            break
    stream.seek(0)
    return ""


def map_columns(header: list[str], mapping: dict[str, str] | None) -> tuple[list[str | None], str]:
    """The target field of each column (None: ignored) or a failure message."""
    mapping = {k.strip(): v.strip() for k, v in (mapping or {}).items()}
    targets: list[str | None] = []
    unknown, seen = [], {}
    for index, name in enumerate(header):
        if name.strip() in mapping:
            target = mapping[name.strip()] or None
        else:
            key = _normalise(name)
            if not key:
                return [], f"Column {index + 1} has no name; give every column a header."
            target = key if key.startswith(ATTR_PREFIX) else HEADER_ALIASES.get(key, key)
        if target is not None:
            valid = target in LEAD_FIELDS or (
                target.startswith(ATTR_PREFIX) and ATTR_NAME.match(target[len(ATTR_PREFIX) :])
            )
            if not valid:
                unknown.append(name)
                continue
            if target in seen:
                return [], f"Columns '{seen[target]}' and '{name}' both map to '{target}'."
            seen[target] = name
        targets.append(target)
    if unknown:
        listed = ", ".join(f"'{u}'" for u in unknown[:10])
        return [], (
            f"Unknown columns: {listed}. Map each to a lead field or attr.<name> "
            "(--map 'Column=field'), or ignore it (--map 'Column=')."
        )
    if "email" not in seen:
        return [], "The file has no email column."
    return targets, ""


def leads_import(
    *,
    stream,
    dry_run: bool,
    update_existing: bool = False,
    mapping: dict[str, str] | None = None,
    batch_size: int = 1000,
    progress: Callable[[ImportReport, int], None] | None = None,
    batch_commit: Callable[[ImportReport, int, Callable[[], None]], None] | None = None,
    score: bool = True,
) -> ImportReport:
    """Import leads from a binary CSV stream (UTF-8, comma or semicolon separated).

    New emails are created (source ``import``) when the row names the person (first or last
    name; a nameless new lead is a row error); an email that exists (any case) is updated
    with the file's non-empty values under ``update_existing`` and rejected otherwise; a
    repeat of an email within the file is rejected naming the first row. Batches of
    ``batch_size`` rows: one read of existing leads, one bulk insert, one bulk update and one
    set-based scoring UPDATE each.

    ``batch_commit(report, position, write)``, when given, runs each batch's ``write`` itself
    (in its own transaction, with the progress it records), so a run can skip the batches an
    earlier run of the same file already committed; ``progress`` is then not called.
    """
    report = ImportReport(dry_run=dry_run)
    problem = encoding_problem(stream)
    if problem:
        report.failure = problem
        return report
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    first = text.readline()
    if not first.strip():
        report.failure = "The file is empty; the first line must be a header such as 'email,first_name,company'."
        return report
    delimiter = ";" if first.count(";") > first.count(",") else ","
    max_chars = settings.IMPORT_MAX_FIELD_CHARS
    csv.field_size_limit(max(max_chars * 4, 131072))
    reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
    header = next(reader)
    targets, failure = map_columns(header, mapping)
    if failure:
        report.failure = failure
        return report
    report.columns = {h: t or "" for h, t in zip(header, targets, strict=True)}
    by_target = {t: h for h, t in zip(header, targets, strict=True) if t}
    name_column = by_target.get("first_name") or by_target.get("last_name") or "first_name"
    names = by_target
    seen: dict[str, int] = {}
    batch: list[tuple[int, dict]] = []

    def flush(rows) -> None:
        def write() -> None:
            _write_batch(
                rows, report, dry_run=dry_run, update_existing=update_existing, score=score, name_column=name_column
            )

        if batch_commit:
            batch_commit(report, _position(stream), write)
            return
        write()
        if progress and len(rows) >= batch_size:
            progress(report, _position(stream))

    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.rows += 1
            report.reject(reader.line_num, [("*", f"unreadable CSV: {exc}")])
            continue
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue  # a blank line is not a row
        report.rows += 1
        if len(row) != len(header):
            report.reject(line, [("*", f"has {len(row)} values but the header has {len(header)} columns")])
            continue
        raw = {target: cell for target, cell in zip(targets, row, strict=True) if target is not None}
        values, errors = lead_values_clean(raw, max_chars=max_chars)
        problems = [(names.get(k, k), reason) for k, reason in errors.items()]
        if "email" not in values and "email" not in errors:
            problems.append((names["email"], "an email address is required"))
        if problems:
            report.reject(line, problems)
            continue
        email = values["email"]
        if email in seen:
            report.reject(line, [(names["email"], f"duplicate of row {seen[email]} ({email})")])
            continue
        seen[email] = line
        batch.append((line, values))
        if len(batch) >= batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    if progress and not batch_commit:
        progress(report, _position(stream))
    return report


def _position(stream) -> int:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0


def _write_batch(
    batch,
    report: ImportReport,
    *,
    dry_run: bool,
    update_existing: bool,
    score: bool,
    source: str = LeadSource.IMPORT,
    name_column: str | None = None,
) -> None:
    """``name_column`` (the file's column to name in the error) turns on the CSV import's rule
    that a new lead needs a first or last name."""
    emails = [values["email"] for _line, values in batch]
    existing = {lead.le: lead for lead in Lead.objects.annotate(le=Lower("email")).filter(le__in=emails).order_by()}
    # New rows stay plain dicts (no model instance per row: building 40-field instances was a
    # good part of an import's time); they become rows of a COPY, or instances only on SQLite
    # and in the one-at-a-time fallback.
    new: list[tuple[int, dict]] = []
    changed: list[Lead] = []
    fields: set[str] = set()
    for line, values in batch:
        lead = existing.get(values["email"])
        if lead is None:
            # A new lead must name a person: a nameless one reads as an e-mail address on every
            # list and call. An existing lead keeps its name, so updates need none.
            if name_column and not (values.get("first_name") or values.get("last_name")):
                report.reject(line, [(name_column, "a new lead needs a name: fill in first_name or last_name")])
                continue
            new.append((line, {"source": source, **values}))
            continue
        if not update_existing:
            report.reject(line, [("email", "a lead with this email already exists; use update existing")])
            continue
        diff = _apply(lead, values)
        if diff:
            changed.append(lead)
            fields |= diff
        else:
            report.unchanged += 1
    if dry_run:
        report.created += len(new)
        report.updated += len(changed)
        return
    with transaction.atomic():
        created = _insert(new, changed, fields, report)
        if created:
            lead_events_announce(
                "lead.created",
                [
                    {"lead": pk, "email": values["email"], "source": values["source"], "stage": NEW_STAGE}
                    for values, pk in created
                ],
            )
        report.created += len(created)
        report.updated += len(changed)
        _consents_record(batch, [(pk, values["email"]) for values, pk in created] + [(c.pk, c.email) for c in changed])
        scored = [*(pk for _values, pk in created), *(lead.pk for lead in changed)]
        if score and scored:
            # Scored (and qualified) by a worker right after commit, one set-based UPDATE per
            # batch, so a big import is not held up by scoring.
            enqueue.leads_score_batch(scored)
        if scored:
            enqueue.duplicates_find(scored)


def _consents_record(batch, leads: list[tuple[int, str]]) -> None:
    """The file's consent columns become consent records (source import, evidence: the row);
    the flags the file set on the leads are the ones those records imply. ``leads``: (id,
    email) of the batch's created and updated leads."""
    by_email = {values["email"]: (line, values) for line, values in batch}
    rows, lines = [], {}
    for pk, email in leads:
        line, values = by_email[email.lower()]
        changes = consent_changes_from_flags(values)
        if changes:
            lines[pk] = line
            rows.append((pk, changes))
    consents_record_many(rows=rows, source=ConsentSource.IMPORT, evidence_for=lambda pk: f"CSV import, row {lines[pk]}")


def _copy_columns():
    """The columns a COPY of new leads writes, and how each value gets there: JSON columns
    through the field (an adapter), every other column as the cleaned Python value (psycopg
    dumps str, int, float, bool, datetime and None itself)."""
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key and not f.generated]
    json_columns = {i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"}
    return fields, json_columns


def _copy_insert(rows: list[dict]) -> list[int]:
    """PostgreSQL: insert the new leads' cleaned values with COPY (several times faster than
    INSERT ... VALUES for big batches). The ids are taken from the table's sequence first (one
    cheap query) and written by the COPY, so no read-back by email is needed. Columns a row
    leaves out get the field's default. A duplicate email fails the whole COPY with
    IntegrityError, like bulk_create would."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields, json_columns = _copy_columns()
    defaults = [f.get_default() for f in fields]
    for i, f in enumerate(fields):
        if f.attname in ("created_at", "updated_at"):
            defaults[i] = now
    names = [f.attname for f in fields]
    pk_column = Lead._meta.pk.column
    columns = ", ".join(connection.ops.quote_name(c) for c in [pk_column, *(f.column for f in fields)])
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Lead._meta.db_table, pk_column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    json_fields = [(i, fields[i]) for i in sorted(json_columns)]
    for i, _f in json_fields:
        # The same JSON text every row: dumped once, COPY hands the text to jsonb's parser.
        defaults[i] = json.dumps(defaults[i])
    json_given = [(i, f.attname, f) for i, f in json_fields]
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for pk, values in zip(ids, rows, strict=True):
            row = [values.get(name, default) for name, default in zip(names, defaults, strict=True)]
            for i, name, f in json_given:
                if name in values:
                    row[i] = f.get_db_prep_save(values[name], connection)
            copy.write_row([pk, *row])
    return ids


def _insert(
    new: list[tuple[int, dict]], changed: list[Lead], fields: set[str], report: ImportReport
) -> list[tuple[dict, int]]:
    """Write the batch; (values, id) of each created lead."""
    from django.db import connection

    try:
        with transaction.atomic():
            rows = [values for _line, values in new]
            if connection.vendor == "postgresql" and new:
                created_ids = _copy_insert(rows)
            else:
                created_ids = [lead.pk for lead in Lead.objects.bulk_create([Lead(**values) for values in rows])]
            if changed:
                Lead.objects.bulk_update(changed, [*sorted(fields), "updated_at"])
            return list(zip(rows, created_ids, strict=True))
    except IntegrityError:
        pass
    # Someone created one of these emails meanwhile: fall back to one row at a time.
    created = []
    for line, values in new:
        lead = Lead(**values)
        try:
            with transaction.atomic():
                lead.save(force_insert=True)
            created.append((values, lead.pk))
        except IntegrityError:
            report.reject(line, [("email", "a lead with this email was created meanwhile")])
    if changed:
        Lead.objects.bulk_update(changed, [*sorted(fields), "updated_at"])
    return created


def _apply(lead: Lead, values: dict) -> set[str]:
    diff: set[str] = set()
    for name, value in values.items():
        if name == "email":
            continue
        if name == "custom_attributes":
            value = {**lead.custom_attributes, **value}
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            diff.add(name)
    if diff:
        from django.utils import timezone

        lead.updated_at = timezone.now()
    return diff


# --- Bulk create through the API ---------------------------------------------------------------


def leads_bulk_create(*, leads: list, max_leads: int, actor=None) -> list[int]:
    """Create up to ``max_leads`` leads in one transaction, all or nothing: every lead is
    cleaned as an import row is; any problem (a bad value, an email twice in the request, an
    email that exists) refuses the whole request with errors keyed ``leads.<index>.<field>``
    and nothing is written. Written by the import's batch writer (COPY on PostgreSQL) and
    scored by a worker after commit. Returns the new ids in input order."""
    from django.core.exceptions import ValidationError

    if not isinstance(leads, list) or not leads:
        raise ValidationError({"leads": "Send a non-empty list of leads."})
    if len(leads) > max_leads:
        raise ValidationError({"leads": f"At most {max_leads} leads per request; got {len(leads)}."})
    errors: dict[str, str] = {}
    batch: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(leads):
        prefix = f"leads.{index}"
        try:
            raw = api_lead_input(item)
        except ValidationError as exc:
            errors.update({f"{prefix}.{k}": v[0] for k, v in exc.message_dict.items()})
            continue
        values, row_errors = lead_values_clean(raw, max_chars=settings.IMPORT_MAX_FIELD_CHARS)
        errors.update({f"{prefix}.{api_field_name(k)}": reason for k, reason in row_errors.items()})
        if row_errors:
            continue
        if "email" not in values:
            errors[f"{prefix}.email"] = "An email address is required."
            continue
        if values["email"] in seen:
            errors[f"{prefix}.email"] = f"The same email as leads.{seen[values['email']]}."
            continue
        seen[values["email"]] = index
        batch.append((index, values))
    if not errors:
        existing = dict(Lead.objects.annotate(le=Lower("email")).filter(le__in=list(seen)).values_list("le", "pk"))
        for email in existing:
            errors[f"leads.{seen[email]}.email"] = "A lead with this email already exists."
    if errors:
        raise ValidationError(errors)
    report = ImportReport(dry_run=False)
    with transaction.atomic():
        _write_batch(batch, report, dry_run=False, update_existing=False, score=True, source=API_DEFAULT_SOURCE)
        if report.rejected:  # an email was created meanwhile: undo everything
            raise ValidationError({f"leads.{e.row}.{e.column}": e.reason for e in report.errors})
        ids = dict(Lead.objects.annotate(le=Lower("email")).filter(le__in=list(seen)).values_list("le", "pk"))
    return [ids[values["email"]] for _index, values in batch]


# --- Imports started from the upload page (run by a worker) -----------------------------------


def lead_import_start(*, upload, dry_run: bool, update_existing: bool, actor) -> LeadImport:
    """Store the uploaded file and enqueue the import on the ``marketing`` queue after commit."""
    with transaction.atomic():
        job = LeadImport.objects.create(
            file=upload,
            original_name=upload.name[:255],
            size_bytes=upload.size,
            dry_run=dry_run,
            update_existing=update_existing,
            created_by=actor,
        )
        enqueue.lead_import_run(job.pk)
    return job


RESUME_FIELDS = ("status", "rows_read", "created_count", "updated_count", "rejected_count", "error_count", "errors")


def lead_import_run(*, import_id: int, batch_size: int = 1000) -> LeadImport:
    """Run a stored import, recording progress on the LeadImport row with every batch.

    Safe to run again (the task is re-delivered when a worker dies) and twice at once: each
    batch is written in one transaction with the progress it makes, under the job's row lock,
    and a run skips the batches the row says are done (the file and so its batches are the
    same every time), taking the counts recorded with the last of them. A finished job is
    returned as it is.
    """
    from django.utils import timezone

    claimed = LeadImport.objects.filter(pk=import_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]).update(
        status=ImportStatus.RUNNING
    )
    job = LeadImport.objects.get(pk=import_id)
    if not claimed:
        return job

    def batch_commit(report: ImportReport, position: int, write) -> None:
        with transaction.atomic():
            done = LeadImport.objects.select_for_update().filter(pk=import_id).values(*RESUME_FIELDS).get()
            if done["status"] != ImportStatus.RUNNING or report.rows < done["rows_read"]:
                return  # finished by another run, or a batch an earlier run committed
            if report.rows == done["rows_read"] and done["rows_read"]:
                # the last batch an earlier run committed: carry on from its counts
                report.created, report.updated = done["created_count"], done["updated_count"]
                report.rejected, report.error_count = done["rejected_count"], done["error_count"]
                report.errors = [RowError(**e) for e in done["errors"]]
                return
            write()
            LeadImport.objects.filter(pk=import_id).update(
                bytes_read=position,
                rows_read=report.rows,
                created_count=report.created,
                updated_count=report.updated,
                rejected_count=report.rejected,
                error_count=report.error_count,
                errors=[e.__dict__ for e in report.errors],
            )

    try:
        with job.file.open("rb") as handle:
            report = leads_import(
                stream=handle,
                dry_run=job.dry_run,
                update_existing=job.update_existing,
                batch_size=batch_size,
                batch_commit=batch_commit,
            )
    except Exception as exc:  # the job must end as failed, whatever happened
        LeadImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED, failure=f"The import stopped: {exc!r}"[:2000], finished_at=timezone.now()
        )
        raise
    LeadImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED if report.failure else ImportStatus.DONE,
        failure=report.failure,
        bytes_read=job.size_bytes,
        rows_read=report.rows,
        created_count=report.created,
        updated_count=report.updated,
        rejected_count=report.rejected,
        error_count=report.error_count,
        errors=[e.__dict__ for e in report.errors],
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job
