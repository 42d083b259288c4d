from __future__ import annotations

import pytest

from laoke.core import clock
from tests.flash.helpers import NOW


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def zone(db, frozen):
    from laoke.flash.services import flash_presets_install

    flash_presets_install(now=NOW)
    from laoke.flash.selectors import zone_get

    return zone_get()
