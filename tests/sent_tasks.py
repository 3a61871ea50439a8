"""Services send tasks by name (`<app>/enqueue.py` -> `config.celery.send_task_on_commit`), so
tests intercept `app.send_task` instead of a task's `.delay`."""

from contextlib import contextmanager
from unittest import mock

from config.celery import app


@contextmanager
def task_sends(name: str):
    """A Mock called with the arguments of every send of the task `name` (nothing reaches a
    broker; sends of other tasks are dropped)."""
    sent = mock.Mock()

    def send_task(task_name, args=(), **kwargs):
        if task_name == name:
            sent(*args)

    with mock.patch.object(app, "send_task", side_effect=send_task):
        yield sent


def run_sent_tasks_inline(monkeypatch) -> None:
    """Run every task a service sends in-process at once (`Task.apply`), as a worker would."""
    monkeypatch.setattr(app, "send_task", lambda name, args=(), **kwargs: app.tasks[name].apply(args=args))


def record_sent_tasks(monkeypatch) -> list[tuple[str, tuple]]:
    """Record (task name, args) of every task sent; none reaches a broker."""
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args=(), **kwargs: sent.append((name, tuple(args))))
    return sent
