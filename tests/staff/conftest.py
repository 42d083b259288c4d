from tests.staff.fixtures import team  # noqa: F401
