"""Errors never repeat the internal id the caller sent."""

import pytest
from django.core.exceptions import ValidationError

from crm.services.accounts import account_create

pytestmark = pytest.mark.django_db


def test_an_account_given_to_a_missing_user_says_so_without_the_id(manager):
    with pytest.raises(ValidationError) as error:
        account_create(actor=manager, name="Acme", owner_id=987654)

    assert error.value.message_dict == {"owner": ["User not found."]}
