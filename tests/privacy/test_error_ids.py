"""Errors never repeat the internal id the caller sent."""

import pytest
from django.core.exceptions import ValidationError

from privacy.services import person_erase

pytestmark = pytest.mark.django_db


def test_erasing_a_missing_lead_says_so_without_its_id(manager):
    with pytest.raises(ValidationError) as error:
        person_erase(lead_id=987654, actor=manager)

    assert error.value.message_dict == {"lead_id": ["Lead not found."]}
