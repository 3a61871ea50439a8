"""CSV export of one report table, exactly as shown, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import re

from django.http import HttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain number (possibly negative, with thousands separators or a percent sign) cannot be a
# formula, so it is left as it is; anything else starting with a formula character is quoted.
_PLAIN_NUMBER = re.compile(r"^-?\d[\d,]*(\.\d+)?%?$")


def neutralise(cell: str) -> str:
    if cell and cell.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def csv_response(rows: list[list[str]], filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return response
