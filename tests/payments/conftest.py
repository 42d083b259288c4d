from tests.payments.fake_server import fake_provider  # noqa: F401 - the session fixture
