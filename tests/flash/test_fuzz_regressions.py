"""What the API fuzz (decision 0040) found in /api/v1/flash."""

J = "application/json"


def test_a_year_out_of_range_is_422(api):
    client = api("admin")
    r = client.get("/api/v1/flash/holidays?year=-127717769")
    assert r.status_code == 422, r.content[:300]  # was 500 (date(year) out of range)
    assert client.get("/api/v1/flash/holidays?year=2026").status_code == 200


def test_the_opening_time_is_a_local_time(api):
    client = api("admin")
    r = client.patch("/api/v1/flash/settings", {"opening_time": "10:00:00+08:00"}, content_type=J)
    assert r.status_code == 422, r.content[:300]
    ok = client.patch("/api/v1/flash/settings", {"opening_time": "10:30"}, content_type=J)
    assert ok.status_code == 200 and ok.json()["opening_time"] == "10:30:00"
