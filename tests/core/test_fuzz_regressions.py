"""What the API fuzz (decision 0040) found in the shared API plumbing, kept without the fuzzer:
the OpenAPI document (unique component names, documented errors, local times) and the error
answers of malformed requests."""

import json
import re

import jsonschema_rs
import pytest
from django.test import Client

from laoke.api import api as laoke_api
from laoke.core.api import ERROR_SCHEMA, openapi_component_names

J = "application/json"


@pytest.fixture(scope="module")
def document():
    # as served: through JSON (status keys become strings)
    return json.loads(json.dumps(laoke_api.get_openapi_schema(path_prefix="/api/v1/")))


def test_every_schema_class_has_its_own_component(document):
    names = openapi_component_names(laoke_api)
    assert len(set(names.values())) == len(names), "two schema classes share a component name"
    components = document["components"]["schemas"]
    assert set(names.values()) <= set(components)
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs <= set(components), refs - set(components)


def test_same_named_classes_of_two_apps_keep_their_own_fields(document):
    # the negative control: these names do clash, so the fix is what keeps them apart
    gift_outs = [m for m in openapi_component_names(laoke_api) if m.__name__ == "GiftOut"]
    assert len(gift_outs) == 2
    components = document["components"]["schemas"]
    catalog = components["CatalogGiftOut"]["properties"]
    promotions = components["PromotionsRulesGiftOut"]["properties"]
    assert "unit_cost_fen" in catalog and "unit_cost_fen" not in promotions
    assert "valid_from" in promotions and "valid_from" not in catalog
    gifts = document["paths"]["/api/v1/catalog/gifts"]["get"]["responses"]["200"]
    assert gifts["content"][J]["schema"]["items"]["$ref"].endswith("/CatalogGiftOut")


def test_every_operation_documents_the_error_body(document):
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) > 300
    for op in operations:
        for status in ("400", "401", "403", "404", "409", "422", "429"):
            schema = op["responses"][status]["content"][J]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (op["operationId"], status)
    assert "500" not in json.dumps([op["responses"].keys() for op in operations], default=list)


def test_times_are_local_wall_clock_times(document):
    quiet = document["components"]["schemas"]["CampaignsSettingsOut"]["properties"]["quiet_start"]
    assert "format" not in quiet
    assert re.match(quiet["pattern"], "21:00:00") and re.match(quiet["pattern"], "08:30")
    assert not re.match(quiet["pattern"], "21:00:00+08:00")
    assert '"format": "time"' not in json.dumps(document)


def test_a_pii_export_documents_its_xlsx_answer(document):
    ok = document["paths"]["/api/v1/members/{member_id}/pi-export"]["get"]["responses"]["200"]["content"]
    assert set(ok) == {J, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (lambda c: c.get("/api/v1/members/999999"), 404, "NOT_FOUND"),
        (lambda c: c.get("/api/v1/members/abc"), 404, "NOT_FOUND"),  # Django's URL resolver said no
        (lambda c: c.post("/api/v1/no/such/thing", {}, content_type=J), 404, "NOT_FOUND"),
        (lambda c: c.post("/api/v1/flash/items/a%0Ab/retire"), 404, "NOT_FOUND"),  # a newline in the path
        (lambda c: c.post("/api/v1/members", {"name": 5}, content_type=J), 422, "VALIDATION_ERROR"),
        (lambda c: c.get("/api/v1/b2b/funnel?owner_id=" + "9" * 30), 422, "VALIDATION_ERROR"),
        (
            lambda c: c.post("/api/v1/imports", b"x", content_type="multipart/form-data"),
            400,
            "BAD_REQUEST",
        ),
        (lambda c: Client().get("/api/v1/members"), 401, "AUTH_REQUIRED"),
    ],
    ids=[
        "404",
        "404-unresolved",
        "404-unknown-path",
        "404-newline",
        "422",
        "422-overflow",
        "400-multipart",
        "401",
    ],
)
def test_error_answers_are_json_in_the_documented_shape(api, request_, status, code):
    r = request_(api("admin"))
    assert r.status_code == status, r.content[:300]
    assert r["Content-Type"].startswith(J)
    body = r.json()
    assert body["code"] == code
    jsonschema_rs.validate(ERROR_SCHEMA, body)


def test_the_error_schema_would_catch_a_wrong_body():
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(ERROR_SCHEMA, {"detail": "Not Found"})  # ninja's own error shape


def test_a_body_over_the_size_limit_is_413_not_500(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = api("admin").post("/api/v1/channels/templates/preview", {"body": "x" * 2000}, content_type=J)
    assert r.status_code == 413, r.content[:300]  # was 500 (RequestDataTooBig)
    assert r.json()["code"] == "REQUEST_TOO_LARGE"
    jsonschema_rs.validate(ERROR_SCHEMA, r.json())


def test_413_is_documented(document):
    op = document["paths"]["/api/v1/channels/templates/preview"]["post"]
    assert op["responses"]["413"]["content"][J]["schema"] == {"$ref": "#/components/schemas/Error"}
