"""The OpenAPI schema's examples: every write operation with a request body has a request
example, and every example (request and response) validates against its own schema."""

from __future__ import annotations

import copy

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
WRITES = ("post", "put", "patch")


def json_schema(openapi_schema: dict) -> dict:
    """OpenAPI 3.0's ``nullable`` as JSON Schema, with the components to resolve ``$ref``."""

    def convert(node):
        if isinstance(node, dict):
            node = {k: convert(v) for k, v in node.items()}
            if node.pop("nullable", False):
                node = {"anyOf": [node, {"type": "null"}]}
            return node
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    return {**convert(copy.deepcopy(openapi_schema)), "components": convert(SCHEMA["components"])}


def _operations():
    for path, ops in SCHEMA["paths"].items():
        for method, op in ops.items():
            if method in (*WRITES, "get", "delete"):
                yield path, method, op


def _examples():
    for path, method, op in _operations():
        for media, body in op.get("requestBody", {}).get("content", {}).items():
            for name, example in body.get("examples", {}).items():
                yield pytest.param(body["schema"], example["value"], id=f"{method.upper()} {path} request {name}")
        for status, response in op.get("responses", {}).items():
            for media, body in response.get("content", {}).items():
                for name, example in body.get("examples", {}).items():
                    yield pytest.param(body["schema"], example["value"], id=f"{method.upper()} {path} {status} {name}")


EXAMPLES = list(_examples())


def test_every_write_operation_with_a_body_has_a_request_example():
    missing = [
        f"{method.upper()} {path}"
        for path, method, op in _operations()
        if method in WRITES
        and op.get("requestBody")
        and not any(body.get("examples") for body in op["requestBody"]["content"].values())
    ]

    assert missing == []


def test_the_main_reads_and_writes_have_response_examples():
    with_response_examples = {
        (path, method)
        for path, method, op in _operations()
        if any(body.get("examples") for r in op.get("responses", {}).values() for body in r.get("content", {}).values())
    }

    assert {
        ("/api/leads/", "post"),
        ("/api/leads/{id}/", "get"),
        ("/api/leads/{id}/", "patch"),
        ("/api/leads/bulk/", "post"),
        ("/api/events/", "post"),
        ("/api/call-list/", "get"),
    } <= with_response_examples


@pytest.mark.parametrize(("schema", "value"), EXAMPLES)
def test_each_example_validates_against_its_own_schema(schema, value):
    jsonschema.validate(value, json_schema(schema), format_checker=jsonschema.FormatChecker())
