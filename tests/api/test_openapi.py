"""GET /api/openapi.json: the whole HTTP API, generated from the pydantic models that validate."""

import schemathesis
from django.urls import URLPattern, URLResolver, get_resolver

from training.spec import Spec
from webapp import openapi


def api_routes() -> set[str]:
    """Every /api/ URL pattern of the project, in OpenAPI form (/api/runs/{public_id})."""
    import re

    out = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = "/" + prefix + str(p.pattern)
                if route.startswith("/api/"):
                    out.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns)
    return out


def test_the_document_is_served_and_loads_as_openapi(client_a):
    r = client_a.get("/api/openapi.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    loaded = schemathesis.openapi.from_dict(doc)  # parses and resolves every operation
    assert all(result.ok() for result in loaded.get_all_operations())


def test_the_document_is_valid_against_the_openapi_31_meta_schema():
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR  # the meta-schema schemathesis ships

    errors = [str(e) for e in OPENAPI_31_VALIDATOR.iter_errors(openapi.document())]
    assert errors == []


def test_every_api_url_has_an_entry():
    documented = set(openapi.document()["paths"])
    missing = api_routes() - documented
    assert not missing, f"register these in webapp/openapi.py: {sorted(missing)}"
    assert not documented - api_routes(), "documented paths that no URL serves"


def test_the_spec_component_is_the_validating_model():
    doc = openapi.document()
    component = doc["components"]["schemas"]["Spec"]
    assert set(component["properties"]) == set(Spec.model_fields)
    assert component["additionalProperties"] is False  # unknown fields are errors, as in validation
    body = doc["paths"]["/api/spec/validate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SpecBody"}
    assert doc["components"]["schemas"]["SpecBody"]["properties"]["spec"] == {"$ref": "#/components/schemas/Spec"}
    assert "optimizer_fields" in component["x-descent"]  # the builder's hints travel too


def test_every_operation_documents_the_error_shape():
    doc = openapi.document()
    errors = doc["components"]["schemas"]["Errors"]
    assert errors["required"] == ["errors"]
    assert set(doc["components"]["schemas"]["ErrorItem"]["required"]) == {"path", "message"}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            for status in ("405", "500"):
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Errors"}, (path, method, status)


def test_a_new_endpoint_is_one_register_call():
    from pydantic import BaseModel

    class Echo(BaseModel):
        text: str

    try:
        openapi.register("/api/echo/{word}", "post", "Echo a word", request=Echo,
                         responses={200: Echo, 404: openapi.ERRORS}, params=["word"])
        op = openapi.document()["paths"]["/api/echo/{word}"]["post"]
        assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Echo"}
        assert op["parameters"][0]["name"] == "word" and set(op["responses"]) >= {"200", "404", "405", "500"}
    finally:
        openapi._OPERATIONS.pop(("/api/echo/{word}", "post"))
