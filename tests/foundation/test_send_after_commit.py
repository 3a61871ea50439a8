"""A broker outage after the commit must not turn a saved change into a 500."""

import logging
from unittest import mock

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from config.celery import app, send_task_on_commit


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_after_commit_is_logged_not_raised(caplog):
    outage = OperationalError("Error 111 connecting")
    with (
        mock.patch.object(app, "send_task", side_effect=outage) as send,
        caplog.at_level(logging.ERROR, logger="baton.celery"),
        transaction.atomic(),
    ):
        send_task_on_commit("leads.tasks.score_lead_task", 1)
    send.assert_called_once()
    assert "could not send leads.tasks.score_lead_task after commit" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_other_errors_of_the_send_still_raise():
    with (
        mock.patch.object(app, "send_task", side_effect=ValueError("bug")),
        pytest.raises(ValueError),
        transaction.atomic(),
    ):
        send_task_on_commit("leads.tasks.score_lead_task", 1)
