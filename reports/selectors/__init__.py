"""Manager reports: one selector module per report, shared by the admin pages, the CSV export
and the API. `REPORTS` lists them in the order the admin shows them."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

REPORT_MODULES = (
    "handoff",
    "funnel",
    "objections",
    "campaigns",
    "collateral",
    "calibration",
    "rep_activity",
    "customer_experience",
)


@dataclass(frozen=True)
class ReportSpec:
    slug: str
    title: str
    description: str
    empty_message: str
    module: ModuleType

    @property
    def form_class(self):
        return self.module.FilterForm

    def build(self, data):
        return self.module.build(data)


def _load() -> dict[str, ReportSpec]:
    specs = {}
    for name in REPORT_MODULES:
        module = import_module(f"{__name__}.{name}")
        specs[module.SLUG] = ReportSpec(module.SLUG, module.TITLE, module.DESCRIPTION, module.EMPTY, module)
    return specs


REPORTS: dict[str, ReportSpec] = _load()
