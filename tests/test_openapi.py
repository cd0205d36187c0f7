"""The OpenAPI schema: one schema per name (two classes with one name overwrite each other: the
bad-review follow-up was documented with the appeals' fields, GET /guides/{code} failed its own
response schema), and every operation documents its error answers in the one error shape."""

from __future__ import annotations

import typing

from pydantic import BaseModel

from bianmin.api import api


def _models_in(annotation, found: set) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _models_in(arg, found)


def _every_model() -> set:
    found: set = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                for model in op.models:
                    for field in model.model_fields.values():
                        _models_in(field.annotation, found)
                for model in (op.response_models or {}).values():
                    _models_in(model, found)
    return found


def test_schema_names_are_unique():
    by_name: dict[str, set] = {}
    for model in _every_model():
        if model.__module__.startswith("ninja."):
            continue  # ninja's wrappers (params, responses) are never components
        by_name.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    duplicates = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert duplicates == {}, f"OpenAPI 模式名称重复：{duplicates}"


def test_every_operation_documents_its_errors_in_one_shape():
    schema = api.get_openapi_schema()
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message", "field"]
    post = schema["paths"]["/api/v1/cases/{case_id}/accept"]["post"]["responses"]
    assert {"401", "403", "404", "409"} <= {str(s) for s in post}
    record = schema["paths"]["/api/v1/evaluations/record"]["post"]
    body = record["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "case_id" in schema["components"]["schemas"][body.rsplit("/", 1)[-1]]["properties"]
    link = schema["paths"]["/api/v1/evaluations/link/{token}"]["post"]["responses"]
    assert link[429]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "401" not in {str(s) for s in link}  # no authentication, no 401
