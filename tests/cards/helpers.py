"""Card fixtures built through the real services. PINs come from the one-time batch file, as a
shop would get them."""

from __future__ import annotations

from io import BytesIO

from django.test import TestCase
from openpyxl import load_workbook

from laoke.cards.models import Card, CardBatch
from laoke.cards.services import card_activate, card_batch_create, card_batch_download


def read_pin_file(data: bytes) -> dict[str, str]:
    ws = load_workbook(BytesIO(data), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    return {str(r[1]): str(r[2]) for r in rows[2:]}


def issue(
    *, face_value_fen=50_000, count=3, kind="normal", activate=True, sold_to=None, download=True, **kw
) -> tuple[CardBatch, dict[str, str]]:
    """A generated batch (Huey runs immediately in tests) and {number: PIN} from its file."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the Huey task (immediate in tests)
        batch = card_batch_create(face_value_fen=face_value_fen, count=count, kind=kind, **kw)
    batch.refresh_from_db()
    assert batch.state == "ready", batch.error
    if not download:
        return batch, {}
    _, data = card_batch_download(batch_id=batch.pk)
    pins = read_pin_file(data)
    assert len(pins) == count
    if activate:
        card_activate(batch=batch, first_serial=1, last_serial=count, member=sold_to)
    return batch, pins


def card_of(number: str) -> Card:
    return Card.objects.get(number=number)
