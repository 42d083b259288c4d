import json
import logging
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from laoke.core import clock
from laoke.core.errors import REGISTRY
from laoke.core.logging import JsonLinesFormatter, PiiFilter


def test_business_day_is_shanghai_not_utc():
    with clock.frozen(datetime(2026, 11, 10, 16, 30, tzinfo=UTC)):  # 00:30 on 11-11 in Shanghai
        assert clock.today() == date(2026, 11, 11)
        clock.advance(timedelta(hours=-1))
        assert clock.today() == date(2026, 11, 10)


def test_frozen_clock_is_shared_by_threads_advances_and_thaws():
    at = datetime(2026, 11, 11, 1, 2, 3, tzinfo=UTC)
    seen = []
    with clock.frozen(at):
        assert clock.now() == at
        t = threading.Thread(target=lambda: seen.append(clock.now()))
        t.start()
        t.join()
        assert seen == [at]  # every thread sees the frozen time (race tests start threads)
        clock.advance(timedelta(days=1, minutes=5))
        assert clock.now() == at + timedelta(days=1, minutes=5)
        assert clock.local_now().utcoffset() == timedelta(hours=8)
        assert clock.local_now().hour == 9
    real = datetime.now(UTC)
    assert abs(clock.now() - real) < timedelta(seconds=5)
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(seconds=1))
    with pytest.raises(ValueError):
        with clock.frozen(datetime(2026, 1, 1)):
            pass


def test_business_day_just_before_shanghai_midnight():
    with clock.frozen(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)):  # 23:59:59 Shanghai
        assert clock.today() == date(2026, 12, 31)
        clock.advance(timedelta(seconds=1))  # 00:00 on 01-01 in Shanghai, still 12-31 in UTC
        assert clock.today() == date(2027, 1, 1) and clock.now().date() == date(2026, 12, 31)


def test_every_error_code_has_status_and_both_languages():
    import laoke.api  # noqa: F401  (loads every app's error codes)

    assert len(REGISTRY) > 30
    for code, err in REGISTRY.items():
        assert code == code.upper() and 400 <= err.status < 600
        assert err.zh and err.en and err.zh != err.en, code


def _format(msg, **extra):
    record = logging.LogRecord("laoke.test", logging.INFO, __file__, 1, msg, (), None)
    for k, v in extra.items():
        setattr(record, k, v)
    assert PiiFilter().filter(record)
    return json.loads(JsonLinesFormatter().format(record))


def test_log_lines_are_json_with_mobiles_masked_and_pins_dropped():
    out = _format(
        "member 13812345678 recharged card pin=123456",
        card_pin="654321",
        phone="+8613912345678",
        data={"password": "x", "note": "call 13700001111"},
    )
    assert out["msg"] == "member 138****5678 recharged card pin=***"
    assert "card_pin" not in out
    assert out["phone"] == "+86139****5678"
    assert out["data"] == {"password": "***", "note": "call 137****1111"}
    assert "123456" not in json.dumps(out) and "654321" not in json.dumps(out)


def test_objects_in_extras_are_rendered_masked():
    class Request:  # like django.request's WSGIRequest extra, whose repr carries the query string
        def __str__(self):
            return "<WSGIRequest: GET '/api/v1/members?q=13812345678'>"

    out = _format("Unauthorized: /api/v1/members", request=Request(), status_code=401)
    assert out["request"] == "<WSGIRequest: GET '/api/v1/members?q=138****5678'>"
    assert out["status_code"] == 401


def test_access_log_masks_mobiles_in_paths(api, caplog):
    client = api("cashier")
    with caplog.at_level(logging.INFO, logger="laoke.request"):
        client.get("/api/v1/members", {"q": "13812345678"})
    lines = [r.getMessage() for r in caplog.records if r.name == "laoke.request"]
    assert lines and all("13812345678" not in line for line in lines)
    assert any("138****5678" in line for line in lines)


def test_console_and_session_api_writes_need_csrf(staff):
    from django.test import Client

    user = staff("admin", password="csrf-pass-123")
    client = Client(enforce_csrf_checks=True)
    assert (
        client.post("/admin/login/", {"username": user.username, "password": "csrf-pass-123"}).status_code
        == 403
    )
    client.force_login(user)
    r = client.post("/api/v1/stores", {"code": "X", "name": "x"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "CSRF_FAILED"
