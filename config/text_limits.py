"""How long free text a person writes may be. Longer text is a field error that names the
limit (forms, the API and imports alike); stored text is never cut short. The models carry
the same limits (``max_length`` on their TextFields), so admin forms and serializers check too."""

from __future__ import annotations

from django.core.exceptions import ValidationError

# A note, a comment, what was said and answered on a call, a description, a goal.
NOTE_MAX_LENGTH = 5000
# Legal wording shown on a capture form, what a person agreed to.
LONG_TEXT_MAX_LENGTH = 20000


def too_long_message(limit: int, length: int) -> str:
    return f"At most {limit:,} characters; this has {length:,}."


def text_length_errors(values: dict[str, object], limit: int = NOTE_MAX_LENGTH) -> dict[str, list[str]]:
    """``{field: [message]}`` for each value longer than ``limit`` characters."""
    return {
        name: [too_long_message(limit, len(value))]
        for name, value in values.items()
        if isinstance(value, str) and len(value) > limit
    }


def text_lengths_check(values: dict[str, object], limit: int = NOTE_MAX_LENGTH) -> None:
    """Raise a ValidationError naming every field of ``values`` longer than ``limit``."""
    errors = text_length_errors(values, limit)
    if errors:
        raise ValidationError(errors)
