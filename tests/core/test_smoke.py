def test_whoami_with_token(api):
    client = api("cashier", scopes=["members:read"])
    r = client.get("/api/v1/whoami")
    assert r.status_code == 200, r.content
    assert r.json()["roles"] == ["cashier"]
    assert r.json()["scopes"] == ["members:read"]


def test_whoami_without_auth_is_401(client, db):
    r = client.get("/api/v1/whoami")
    assert r.status_code == 401
    assert r.json()["code"] == "AUTH_REQUIRED"


def test_store_create_idempotent_replay(api):
    client = api("admin")
    body = {"code": "S1", "name": "一号店"}
    r1 = client.post("/api/v1/stores", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    r2 = client.post("/api/v1/stores", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert r1.status_code == 201, r1.content
    assert r2.status_code == 201 and r2.json() == r1.json()
    r3 = client.post(
        "/api/v1/stores",
        {"code": "S2", "name": "x"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert r3.status_code == 409 and r3.json()["code"] == "IDEMPOTENCY_CONFLICT"


def test_permission_checked_before_body_validation(api):
    # A cashier may not create stores: 403 even with an invalid body (not 422).
    client = api("cashier")
    r = client.post("/api/v1/stores", {"bogus": 1}, content_type="application/json")
    assert r.status_code == 403, r.content
    assert r.json()["code"] == "PERMISSION_DENIED"


def test_token_scope_narrows_permissions(api):
    client = api("admin", scopes=["members:read"])
    r = client.post("/api/v1/stores", {"code": "X", "name": "x"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "TOKEN_SCOPE_MISSING"
