"""Card batches: creation, generation in chunks, the one-time PIN file, sale and cancellation.

Design (docs/decisions/0014-cards.md):

- ``card_batch_create`` validates and writes the batch row; the generation job is enqueued after
  commit (Huey). ``card_batch_generate`` produces the cards ``CHUNK`` at a time: numbers and PINs
  are drawn, the PINs hashed (scrypt, ~20 ms each, on a thread pool — hashlib releases the GIL)
  *outside* any transaction, the chunk's clear PINs written to a private chunk file on disk, and
  only then one short transaction inserts the chunk's cards and advances ``chunks_done`` by a
  guarded UPDATE. A crash before that commit leaves a chunk file that the resumed job overwrites;
  a crash after it leaves both, so no committed card ever lacks its PIN in the file.
- When the last chunk is in, the chunk files become one xlsx (0600) and the batch is ``ready``.
  ``card_batch_download`` flips ready → downloaded by a guarded UPDATE (exactly one caller wins),
  and the file is deleted after the commit: PINs in clear exist only in that file, until then.
- Sale (activation) and cancellation work on a serial range of one batch, all or nothing, at most
  ``CHUNK`` cards per call (one short transaction).
"""

from __future__ import annotations

import csv
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.core.validation import check_length
from laoke.members.models import GroupAccount, Member

from . import pins
from .error_codes import (
    BATCH_AMOUNT_INVALID,
    BATCH_BUYER_INVALID,
    BATCH_COUNT_INVALID,
    BATCH_EXPIRY_INVALID,
    BATCH_FILE_GONE,
    BATCH_KIND_INVALID,
    BATCH_NOT_READY,
    BATCH_SALE_PRICE_INVALID,
    CARD_EXPERIENCE_NEEDS_MEMBER,
    CARD_EXPERIENCE_ONCE,
    CARD_EXPIRED,
    CARD_RANGE_INVALID,
    CARD_RANGE_NOT_AVAILABLE,
    CARD_RANGE_TOO_LARGE,
    CARD_REASON_REQUIRED,
)
from .models import EXPERIENCE_PRICE_FEN, Card, CardBatch, CardEvent, CardKind

CHUNK = 1_000  # cards per transaction (house rule: ≤ 2,000)
MAX_COUNT = 100_000
MAX_FACE_FEN = 10**9
_COMPANY_KINDS = (CardKind.GIFT, CardKind.WELFARE)


def pin_dir() -> Path:
    path = Path(settings.EXPORT_DIR) / "cards"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _chunk_path(batch: CardBatch, chunk: int) -> Path:
    return pin_dir() / f"{batch.job_id}.chunk{chunk:05d}.csv"


def batch_file_path(batch: CardBatch) -> Path:
    return pin_dir() / f"{batch.job_id}.xlsx"


def _amount(field: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_FACE_FEN:
        raise DomainError(BATCH_AMOUNT_INVALID, field=field)
    return value


def card_batch_create(
    *,
    face_value_fen: int,
    count: int,
    kind: str = CardKind.NORMAL,
    sale_price_fen: int | None = None,
    store: Store | None = None,
    expires_on: date | None = None,
    buyer_member: Member | None = None,
    buyer_group: GroupAccount | None = None,
    buyer_company: str = "",
    purpose: str = "",
    actor=None,
    idem: idempotency.Claim | None = None,
    background: bool = True,
) -> CardBatch:
    """A batch of ``count`` cards of one face value; generated in the background (Huey, after
    commit) unless ``background=False`` (the CLI then calls ``card_batch_generate`` itself)."""
    if kind not in CardKind.values:
        raise DomainError(BATCH_KIND_INVALID, field="kind")
    _amount("face_value_fen", face_value_fen)
    if sale_price_fen is None:
        sale_price_fen = (
            min(EXPERIENCE_PRICE_FEN, face_value_fen) if kind == CardKind.EXPERIENCE else face_value_fen
        )
    if (
        isinstance(sale_price_fen, bool)
        or not isinstance(sale_price_fen, int)
        or not 0 <= sale_price_fen <= face_value_fen
    ):
        raise DomainError(BATCH_SALE_PRICE_INVALID, field="sale_price_fen")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise DomainError(BATCH_COUNT_INVALID, field="count")
    if expires_on is not None and expires_on <= clock.today():
        raise DomainError(BATCH_EXPIRY_INVALID, field="expires_on")
    buyer_company = (buyer_company or "").strip()
    purpose = (purpose or "").strip()
    check_length("buyer_company", buyer_company, 200)
    check_length("purpose", purpose, 200)
    if buyer_member is not None and buyer_group is not None:
        raise DomainError(BATCH_BUYER_INVALID, field="buyer_group")
    if kind in _COMPANY_KINDS and not ((buyer_company or buyer_group) and purpose):
        raise DomainError(BATCH_BUYER_INVALID, field="buyer_company" if not purpose else "purpose")
    now = clock.now()
    with transaction.atomic(durable=True):
        batch = CardBatch.objects.create(
            code=f"B{clock.to_local(now):%Y%m%d}-{secrets.token_hex(3).upper()}",
            kind=kind,
            face_value_fen=face_value_fen,
            sale_price_fen=sale_price_fen,
            count=count,
            store=store,
            expires_on=expires_on,
            job_id=secrets.token_hex(12),
            buyer_member=buyer_member,
            buyer_group=buyer_group,
            buyer_company=buyer_company,
            purpose=purpose,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
        )
        audit_write(
            action="card_batch.create",
            obj=batch,
            after={
                "code": batch.code,
                "kind": kind,
                "face_value_fen": face_value_fen,
                "sale_price_fen": sale_price_fen,
                "count": count,
                "store": store.pk if store else None,
                "expires_on": expires_on.isoformat() if expires_on else None,
                "buyer_company": buyer_company,
                "purpose": purpose,
            },
            actor=actor,
        )
        idempotency.complete(idem, batch)
        if background:
            transaction.on_commit(lambda: _enqueue_generation(batch.pk))
    return batch


def _enqueue_generation(batch_id: int) -> None:
    if not settings.LAOKE.get("CARDS_GENERATE_ON_COMMIT", True):
        return
    from .tasks import cards_batch_generate_task

    cards_batch_generate_task(batch_id)


# --- generation ----------------------------------------------------------------------------------


def _fresh_numbers(n: int) -> list[str]:
    numbers: set[str] = set()
    while len(numbers) < n:
        want = {pins.new_number() for _ in range(n - len(numbers))}
        taken = set(Card.objects.filter(number__in=want).values_list("number", flat=True))
        numbers |= want - taken
    return list(numbers)


def _hash_all(clear: list[str]) -> list[str]:
    workers = max(1, min(8, os.cpu_count() or 1))
    if len(clear) < 8 or workers == 1:
        return [pins.hash_pin(p) for p in clear]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(pins.hash_pin, clear))


def _write_private(path: Path, write) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _generate_chunk(batch: CardBatch, chunk: int) -> bool:
    """One chunk: draw, hash, write the PINs to disk, then insert in one short transaction.
    False if another job committed this chunk first."""
    first = chunk * CHUNK + 1
    n = min(CHUNK, batch.count - chunk * CHUNK)
    for _attempt in range(3):
        numbers = _fresh_numbers(n)
        clear = [pins.new_pin() for _ in range(n)]
        hashes = _hash_all(clear)
        rows = [(first + i, numbers[i], clear[i]) for i in range(n)]

        def write(fh, rows=rows):
            text = "".join(f"{s},{num},{pin}\n" for s, num, pin in rows)
            fh.write(text.encode())

        _write_private(_chunk_path(batch, chunk), write)
        del clear, rows
        now = clock.now()
        try:
            with transaction.atomic(durable=True):
                moved = CardBatch.objects.filter(pk=batch.pk, chunks_done=chunk, state="generating").update(
                    chunks_done=chunk + 1, generated_count=F("generated_count") + n, progress_at=now
                )
                if moved != 1:
                    return False
                Card.objects.bulk_create(
                    [
                        Card(
                            batch=batch,
                            serial=first + i,
                            chunk=chunk,
                            number=numbers[i],
                            pin_hash=hashes[i],
                            kind=batch.kind,
                            face_value_fen=batch.face_value_fen,
                            sale_price_fen=batch.sale_price_fen,
                            store_id=batch.store_id,
                            expires_on=batch.expires_on,
                            created_at=now,
                        )
                        for i in range(n)
                    ]
                )
            return True
        except IntegrityError:  # a number taken by a concurrent batch: draw the chunk again
            continue
    raise RuntimeError(f"batch {batch.pk}: could not draw unique card numbers")


def _assemble_file(batch: CardBatch) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("cards")
    ws.append(
        [
            "批次 batch",
            batch.code,
            "面值(元) face value",
            batch.face_value_fen / 100,
            "张数 count",
            batch.count,
        ]
    )
    ws.append(["序号 serial", "卡号 card number", "密码 PIN"])
    chunks = (batch.count + CHUNK - 1) // CHUNK
    for chunk in range(chunks):
        with open(_chunk_path(batch, chunk), encoding="ascii") as fh:
            for row in csv.reader(fh):
                ws.append([int(row[0]), row[1], row[2]])
    buf = BytesIO()
    wb.save(buf)
    path = batch_file_path(batch)
    _write_private(path, lambda fh: fh.write(buf.getvalue()))
    return path


def _remove_chunk_files(batch: CardBatch) -> None:
    for path in pin_dir().glob(f"{batch.job_id}.chunk*"):
        path.unlink(missing_ok=True)


def card_batch_generate(*, batch_id: int) -> CardBatch:
    """Generate (or resume generating) a batch. Safe to run twice: chunks are claimed by a guarded
    UPDATE on ``chunks_done``; a finished batch is left alone."""
    with transaction.atomic(durable=True):
        CardBatch.objects.filter(pk=batch_id, state="pending").update(
            state="generating", progress_at=clock.now()
        )
    batch = CardBatch.objects.get(pk=batch_id)
    if batch.state != "generating":
        return batch
    try:
        while batch.chunks_done * CHUNK < batch.count:
            _generate_chunk(batch, batch.chunks_done)
            batch.refresh_from_db()
            if batch.state != "generating":
                return batch
        path = _assemble_file(batch)
        with transaction.atomic(durable=True):
            done = CardBatch.objects.filter(pk=batch.pk, state="generating").update(
                state="ready", file_name=path.name, finished_at=clock.now(), progress_at=clock.now(), error=""
            )
            if done:
                audit_write(action="card_batch.generated", obj=batch, after={"count": batch.count})
        _remove_chunk_files(batch)
    except Exception as exc:
        with transaction.atomic(durable=True):
            CardBatch.objects.filter(pk=batch.pk, state="generating").update(error=str(exc)[:255])
        raise
    batch.refresh_from_db()
    return batch


def card_batch_download(*, batch_id: int, actor=None) -> tuple[str, bytes]:
    """The batch's PIN file, once. The second call (or a concurrent one) gets BATCH_FILE_GONE."""
    batch = CardBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise DomainError(NOT_FOUND, field="batch_id")
    if batch.state == "downloaded":
        raise DomainError(BATCH_FILE_GONE)
    if batch.state != "ready":
        raise DomainError(BATCH_NOT_READY)
    path = batch_file_path(batch)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DomainError(BATCH_FILE_GONE) from exc
    with transaction.atomic(durable=True):
        won = CardBatch.objects.filter(pk=batch.pk, state="ready").update(
            state="downloaded",
            downloaded_at=clock.now(),
            downloaded_by=actor if getattr(actor, "pk", None) else None,
        )
        if won != 1:
            raise DomainError(BATCH_FILE_GONE)
        audit_write(action="card_batch.download", obj=batch, after={"file": path.name}, actor=actor)
    path.unlink(missing_ok=True)  # committed: the PINs leave the server with this response
    return f"cards-{batch.code}.xlsx", data


# --- sale and cancellation -----------------------------------------------------------------------


def _range(batch: CardBatch, first: int, last: int) -> None:
    for v in (first, last):
        if isinstance(v, bool) or not isinstance(v, int):
            raise DomainError(CARD_RANGE_INVALID, field="first_serial", count=batch.count)
    if not 1 <= first <= last <= batch.count:
        raise DomainError(CARD_RANGE_INVALID, field="first_serial", count=batch.count)
    if last - first + 1 > CHUNK * 2:
        raise DomainError(CARD_RANGE_TOO_LARGE, field="last_serial", max=CHUNK * 2)


def _events(batch: CardBatch, first: int, last: int, action: str, now, actor, note: str = "", member=None):
    ids = Card.objects.filter(batch=batch, serial__gte=first, serial__lte=last).values_list("pk", flat=True)
    user = actor if getattr(actor, "pk", None) else None
    CardEvent.objects.bulk_create(
        [CardEvent(card_id=i, action=action, at=now, actor=user, member=member, note=note[:200]) for i in ids]
    )


def card_activate(
    *,
    batch: CardBatch,
    first_serial: int,
    last_serial: int,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    buyer_company: str = "",
    purpose: str = "",
    actor=None,
    idem: idempotency.Claim | None = None,
) -> int:
    """Sell (activate) a serial range of a generated batch, all or nothing. Returns the count."""
    batch = CardBatch.objects.filter(pk=batch.pk).first()
    if batch is None:
        raise DomainError(NOT_FOUND, field="batch_id")
    if batch.state not in ("ready", "downloaded"):
        raise DomainError(BATCH_NOT_READY)
    _range(batch, first_serial, last_serial)
    if batch.expires_on is not None and batch.expires_on < clock.today():
        raise DomainError(CARD_EXPIRED)
    member = member or (batch.buyer_member if group_account is None else None)
    group_account = group_account or (batch.buyer_group if member is None else None)
    if member is not None and group_account is not None:
        raise DomainError(BATCH_BUYER_INVALID, field="group_account")
    buyer_company = (buyer_company or batch.buyer_company or "").strip()
    purpose = (purpose or batch.purpose or "").strip()
    check_length("buyer_company", buyer_company, 200)
    check_length("purpose", purpose, 200)
    if batch.kind in _COMPANY_KINDS and not ((buyer_company or group_account) and purpose):
        raise DomainError(BATCH_BUYER_INVALID, field="buyer_company" if not purpose else "purpose")
    if batch.kind == CardKind.EXPERIENCE and (member is None or first_serial != last_serial):
        raise DomainError(CARD_EXPERIENCE_NEEDS_MEMBER, field="member")
    n = last_serial - first_serial + 1
    now = clock.now()
    with transaction.atomic(durable=True):
        rng = Card.objects.filter(batch=batch, serial__gte=first_serial, serial__lte=last_serial)
        if (
            batch.kind == CardKind.EXPERIENCE
            and Card.objects.filter(kind=CardKind.EXPERIENCE, sold_to_member=member).exists()
        ):
            raise DomainError(CARD_EXPERIENCE_ONCE)
        try:
            with transaction.atomic():
                done = rng.filter(state=Card.State.CREATED).update(
                    state=Card.State.ACTIVATED,
                    activated_at=now,
                    activated_by=actor if getattr(actor, "pk", None) else None,
                    sold_to_member=member,
                    sold_to_group=group_account,
                    buyer_company=buyer_company,
                    purpose=purpose,
                )
        except IntegrityError as exc:  # the experience card sold to this member concurrently
            raise DomainError(CARD_EXPERIENCE_ONCE) from exc
        if done != n:
            raise DomainError(CARD_RANGE_NOT_AVAILABLE, field="first_serial", n=n - done)
        _events(batch, first_serial, last_serial, CardEvent.Action.ACTIVATED, now, actor, purpose, member)
        audit_write(
            action="card.activate",
            obj=batch,
            before={"state": Card.State.CREATED, "count": n},
            after={
                "state": Card.State.ACTIVATED,
                "first_serial": first_serial,
                "last_serial": last_serial,
                "count": n,
                "member": member.pk if member else None,
                "group_account": group_account.pk if group_account else None,
                "buyer_company": buyer_company,
                "purpose": purpose,
                "sale_price_fen": batch.sale_price_fen,
            },
            actor=actor,
        )
        idempotency.complete(idem, n)
    return n


def card_cancel(*, batch: CardBatch, first_serial: int, last_serial: int, reason: str, actor=None) -> int:
    """Cancel a range of not yet redeemed cards (lost stock, a returned sale), all or nothing."""
    batch = CardBatch.objects.filter(pk=batch.pk).first()
    if batch is None:
        raise DomainError(NOT_FOUND, field="batch_id")
    _range(batch, first_serial, last_serial)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(CARD_REASON_REQUIRED, field="reason")
    check_length("reason", reason, 200)
    n = last_serial - first_serial + 1
    now = clock.now()
    with transaction.atomic(durable=True):
        live = Card.objects.filter(
            batch=batch,
            serial__gte=first_serial,
            serial__lte=last_serial,
            state__in=[Card.State.CREATED, Card.State.ACTIVATED],
        )
        states = {s: 0 for s in (Card.State.CREATED, Card.State.ACTIVATED)}
        for state in live.select_for_update().values_list("state", flat=True):
            states[state] += 1
        done = live.update(state=Card.State.CANCELLED, cancelled_at=now, cancel_reason=reason)
        if done != n:
            raise DomainError(CARD_RANGE_NOT_AVAILABLE, field="first_serial", n=n - done)
        _events(batch, first_serial, last_serial, CardEvent.Action.CANCELLED, now, actor, reason)
        audit_write(
            action="card.cancel",
            obj=batch,
            before={str(k): v for k, v in states.items()},
            after={
                str(Card.State.CANCELLED): n,
                "first_serial": first_serial,
                "last_serial": last_serial,
                "count": n,
                "reason": reason,
            },
            actor=actor,
        )
    return n
