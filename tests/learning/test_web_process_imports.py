"""The web process never imports the training libraries (interpret, scikit-learn): they are
loaded by the worker and the management commands only, when a model is trained."""

import json
import subprocess
import sys

from django.conf import settings

TRAINING_LIBRARIES = ("interpret", "sklearn")

# What a web process loads: the WSGI application, every view the URLconf names, and (as a
# worker-less web process might, through Celery's autodiscovery) every app's tasks module.
WEB_PROCESS = """
import importlib, json, sys
from config.wsgi import application
from django.apps import apps
from django.urls import get_resolver

def walk(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            walk(pattern.url_patterns)
        else:
            pattern.callback

walk(get_resolver().url_patterns)
for config in apps.get_app_configs():
    try:
        importlib.import_module(config.name + ".tasks")
    except ModuleNotFoundError:
        pass
EXTRA
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(LIBRARIES))))
"""


def _loaded_by_web_process(extra: str = "") -> list[str]:
    code = WEB_PROCESS.replace("EXTRA", extra).replace("LIBRARIES", repr(TRAINING_LIBRARIES))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=settings.BASE_DIR, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_web_process_does_not_import_the_training_libraries():
    assert _loaded_by_web_process() == []


def test_the_check_sees_a_training_library_when_one_is_imported():
    assert _loaded_by_web_process("import sklearn.ensemble") == ["sklearn"]
