"""Where the learned model plugs into leads' scoring: ``leads.learning`` registers its scoring
terms here from ``LearningConfig.ready()``, so ``leads`` never imports ``leads.learning``
(learning depends on leads, not the other way round). Without a registration the scorer uses
the rules only and a lead has no learned reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LearnedScoring:
    scoring_terms: Callable[[], Any]  # () -> the active model's terms, or None
    logit_sql: Callable[[Any], tuple[str, list]]  # terms -> (SQL of the learned logit, params)
    probability_sql: Callable[[str], str]  # logit SQL -> SQL of the clamped probability
    reasons: Callable[[Any], list[dict]]  # lead -> its learned reasons


_registered: list[LearnedScoring] = []


def learned_scoring_register(provider: LearnedScoring) -> None:
    """Install the learned scoring (idempotent: a second registration replaces the first)."""
    _registered[:] = [provider]


def learned_scoring() -> LearnedScoring | None:
    return _registered[0] if _registered else None
