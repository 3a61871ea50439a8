"""Marketing edits a lead on its page: the fields change and the lead is re-scored at once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from .intake import lead_update
from .models import Lead
from .scoring import lead_score


def lead_edit(*, lead_id: int, data: dict, actor) -> Lead:
    """Change the lead's fields (cleaned and checked as ``lead_update`` does: consent only
    tightens, a new email must be free; a ValidationError names the field) and score it in the
    same transaction, so a field a rule reads shows its new score and breakdown at once (and the
    lead qualifies now if it does)."""
    nul = {k: "Null characters are not allowed." for k, v in data.items() if isinstance(v, str) and "\x00" in v}
    if nul:
        raise ValidationError(nul)
    with transaction.atomic():
        lead_update(lead_id=lead_id, data=data, actor=actor)
        return lead_score(lead_id=lead_id)
