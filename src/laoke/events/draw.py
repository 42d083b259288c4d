"""The auditable lottery draw (docs/decisions/0034-events.md). Pure Python, no Django: anyone can
copy this file and re-run a draw from the revealed seed and the exported entrant list.

Algorithm ``laoke-lottery-v1``:

1. **Entrant list.** Each entry is a ticket (a string: a member number, a membership card
   number or an event ticket number). The canonical list is the tickets sorted by their UTF-8
   bytes, duplicates refused. ``entrants_digest = sha256("\\n".join(tickets) + "\\n")`` (hex).
2. **Prize list.** The prizes ordered by (tier, position): tier 1 is the top prize. Canonical form:
   the compact JSON ``[[tier, name, stock], …]`` (UTF-8, no spaces, non-ASCII kept);
   ``prizes_digest = sha256(that JSON)``. The prize *slots* are the prizes expanded by stock in
   that order (a prize with stock 3 fills three consecutive slots).
3. **Commitment.** When the entrant list is frozen the system draws a secret 32-byte seed
   (``secrets.token_bytes``) and publishes ``seed_hash = sha256(seed)`` together with both digests.
   The seed is revealed only by the draw.
4. **Random stream.** ``block(c) = HMAC-SHA256(key=seed, msg="laoke-lottery-v1|" + entrants_digest
   + "|" + prizes_digest + "|" + c as 8 bytes big-endian)`` for c = 0, 1, 2, … read as a 256-bit
   big-endian integer x. ``uniform(n)``: take the next block; accept it if x < floor(2^256 / n) · n
   and return x mod n, otherwise take the next block (rejection sampling: no modulo bias).
5. **Shuffle.** A partial Fisher–Yates shuffle of the canonical list: for i = 0 … k−1 with
   k = min(slots, N): j = i + uniform(N − i); swap a[i] and a[j]. a[i] wins slot i. So a stock of
   N gives at most N winners, every ticket wins at most once, and prizes go out in tier order.

The draw is a function of (seed, entrant list, prize list) only: the database's recorded winners
are checked against it by :func:`verify`, never trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

VERSION = "laoke-lottery-v1"
_SPACE = 1 << 256


def canonical_tickets(tickets: Iterable[str]) -> list[str]:
    out = sorted((str(t) for t in tickets), key=lambda t: t.encode("utf-8"))
    for a, b in itertools.pairwise(out):
        if a == b:
            raise ValueError(f"duplicate ticket {a!r}")
    for t in out:
        if not t or "\n" in t:
            raise ValueError(f"bad ticket {t!r}")
    return out


def entrants_digest(tickets: Sequence[str]) -> str:
    """Digest of an already canonical list."""
    return hashlib.sha256(("\n".join(tickets) + "\n").encode("utf-8")).hexdigest()


def prizes_canonical(prizes: Iterable[tuple[int, str, int]]) -> str:
    return json.dumps(
        [[int(t), str(n), int(s)] for t, n, s in prizes], ensure_ascii=False, separators=(",", ":")
    )


def prizes_digest(prizes: Iterable[tuple[int, str, int]]) -> str:
    return hashlib.sha256(prizes_canonical(prizes).encode("utf-8")).hexdigest()


def seed_hash(seed_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


class _Stream:
    def __init__(self, seed_hex: str, e_digest: str, p_digest: str):
        self.key = bytes.fromhex(seed_hex)
        self.prefix = f"{VERSION}|{e_digest}|{p_digest}|".encode()
        self.counter = 0

    def _block(self) -> int:
        msg = self.prefix + self.counter.to_bytes(8, "big")
        self.counter += 1
        return int.from_bytes(hmac.new(self.key, msg, hashlib.sha256).digest(), "big")

    def uniform(self, n: int) -> int:
        limit = (_SPACE // n) * n
        while True:
            x = self._block()
            if x < limit:
                return x % n


def draw(
    seed_hex: str, tickets: Sequence[str], prizes: Sequence[tuple[int, str, int]]
) -> list[tuple[int, str, int]]:
    """Winners as (slot, ticket, prize index) for slot 0 … k−1; ``tickets`` canonical, ``prizes``
    in (tier, position) order as (tier, name, stock)."""
    slots = [i for i, (_t, _n, stock) in enumerate(prizes) for _ in range(int(stock))]
    a = list(tickets)
    n = len(a)
    k = min(len(slots), n)
    stream = _Stream(seed_hex, entrants_digest(a), prizes_digest(prizes))
    out = []
    for i in range(k):
        j = i + stream.uniform(n - i)
        a[i], a[j] = a[j], a[i]
        out.append((i, a[i], slots[i]))
    return out


@dataclass
class Verification:
    ok: bool
    commitment_ok: bool
    entrants_ok: bool
    prizes_ok: bool
    winners_ok: bool | None  # None: nothing recorded to compare with
    winners: list[tuple[int, str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def verify(
    *,
    seed_hex: str,
    committed_seed_hash: str,
    committed_entrants_digest: str,
    committed_prizes_digest: str,
    tickets: Iterable[str],
    prizes: Sequence[tuple[int, str, int]],
    recorded: Sequence[tuple[int, str]] | None = None,
) -> Verification:
    """Recompute the draw from the seed and the entrant list and check it against the published
    commitment (and, when given, the recorded winners as (slot, ticket))."""
    problems = []
    try:
        canon = canonical_tickets(tickets)
    except ValueError as exc:
        return Verification(False, False, False, False, None, problems=[str(exc)])
    try:
        commitment_ok = seed_hash(seed_hex) == committed_seed_hash
    except ValueError:
        commitment_ok = False
    if not commitment_ok:
        problems.append("sha256(seed) does not match the published commitment")
    entrants_ok = entrants_digest(canon) == committed_entrants_digest
    if not entrants_ok:
        problems.append("the entrant list does not match the committed digest")
    prizes_ok = prizes_digest(prizes) == committed_prizes_digest
    if not prizes_ok:
        problems.append("the prize list does not match the committed digest")
    winners = draw(seed_hex, canon, prizes) if commitment_ok else []
    winners_ok = None
    if recorded is not None:
        winners_ok = sorted((s, t) for s, t, _p in winners) == sorted((int(s), str(t)) for s, t in recorded)
        if not winners_ok:
            problems.append("the recorded winners differ from the recomputed draw")
    ok = commitment_ok and entrants_ok and prizes_ok and winners_ok is not False
    return Verification(ok, commitment_ok, entrants_ok, prizes_ok, winners_ok, winners, problems)


def verify_export(doc: dict, *, seed_hex: str | None = None) -> Verification:
    """Verify from an exported JSON document alone (see ``selectors.lottery_export``)."""
    seed = seed_hex or doc.get("seed") or ""
    prizes = [(p["tier"], p["name"], p["stock"]) for p in doc.get("prizes", [])]
    recorded = [(w["slot"], w["ticket"]) for w in doc["winners"]] if doc.get("winners") is not None else None
    return verify(
        seed_hex=seed,
        committed_seed_hash=doc.get("seed_hash", ""),
        committed_entrants_digest=doc.get("entrants_digest", ""),
        committed_prizes_digest=doc.get("prizes_digest", ""),
        tickets=doc.get("entrants", []),
        prizes=prizes,
        recorded=recorded,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m laoke.events.draw EXPORT.json [SEED]``: verify an export with nothing else."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    with open(args[0], encoding="utf-8") as fh:
        doc = json.load(fh)
    v = verify_export(doc, seed_hex=args[1] if len(args) > 1 else None)
    for slot, ticket, idx in v.winners:
        print(slot, ticket, doc["prizes"][idx]["name"])
    print("verified" if v.ok else "NOT verified: " + "; ".join(v.problems))
    return 0 if v.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
