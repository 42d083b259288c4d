"""Who bought: matching the people of an imported file to members, registering the rest.

A file names a person by a mobile, by an external id (a Taobao buyer name: ``MemberRef`` of the
file's source) or both. Matching order: the mobile (members' mobiles are unique), then the
reference, then — inside the file — a reference that another row of the same file tied to a
mobile. Masked values (``138****5678``, ``t**8``) identify nobody. People still unknown become
new members (source of the file), each with the data of their earliest row, registered at their
first order; their references are attached. A reference that already belongs to someone else is
never moved.

``buyers_resolve`` only reads (the check uses it as it is); the apply then registers the pending
people chunk by chunk (``buyers_register``, one short transaction each) and attaches the new
references (``refs_pending``, written by the apply in chunks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from laoke.core.bulk import values_in
from laoke.members.bulk import _members_insert
from laoke.members.models import Member, MemberRef
from laoke.members.validation import ParsedAddress, parse_addresses_lenient

SARS = {"香港特别行政区": "HK", "澳门特别行政区": "MO", "台湾省": "TW"}
CHUNK = 2000


def country_of(parsed: ParsedAddress | None) -> str:
    if parsed is None:
        return ""
    return SARS.get(parsed.province, "CN")


@dataclass
class Buyer:
    mobile: str | None = None
    ref: str | None = None
    name: str = ""
    address: str = ""
    at: datetime | None = None  # the row's time (first order), for registered_at
    extra: dict = field(default_factory=dict)  # other member fields (generic member files)

    def key(self) -> tuple | None:
        if self.mobile:
            return ("m", self.mobile)
        if self.ref:
            return ("r", self.ref)
        return None


@dataclass
class Resolution:
    member_of: dict[tuple, int]  # person key → member id
    pending: dict[tuple, Buyer]  # people to register, keyed, with their earliest row
    alias: dict[tuple, tuple]  # a reference key → the mobile key of the same person in this file
    known_refs: set[str]  # references that exist already (never re-attached)
    matched: int = 0
    created: int = 0

    def member(self, b: Buyer) -> int | None:
        k = b.key()
        if k is None:
            return None
        k = self.alias.get(k, k)
        return self.member_of.get(k)


def _lookup(model, column: str, values: list[str], value_column: str, **where) -> dict:
    rows = values_in(model, column, values, [column, value_column, *where])
    return {r[0]: r[1] for r in rows if all(r[2 + i] == v for i, v in enumerate(where.values()))}


def buyers_resolve(buyers: list[Buyer], *, ref_source: str) -> Resolution:
    """Match the buyers to members (reads only); the rest are ``pending``."""
    mobiles = sorted({b.mobile for b in buyers if b.mobile})
    refs = sorted({b.ref for b in buyers if b.ref})
    by_mobile = _lookup(Member, "mobile", mobiles, "id")
    by_ref = _lookup(MemberRef, "external_id", refs, "member_id", source=ref_source)
    res = Resolution(member_of={}, pending={}, alias={}, known_refs=set(by_ref))
    for b in buyers:
        if b.mobile and b.ref and b.ref not in by_ref:
            res.alias.setdefault(("r", b.ref), ("m", b.mobile))
    for b in buyers:
        k = b.key()
        if k is None:
            continue
        k = res.alias.get(k, k)
        if k in res.member_of:
            continue
        if k[0] == "m" and k[1] in by_mobile:
            res.member_of[k] = by_mobile[k[1]]
        elif k[0] == "m" and b.ref in by_ref:  # an unknown mobile, a known buyer name
            res.member_of[k] = by_ref[b.ref]
        elif k[0] == "r" and k[1] in by_ref:
            res.member_of[k] = by_ref[k[1]]
        else:
            earlier = res.pending.get(k)
            if earlier is None or (b.at and earlier.at and b.at < earlier.at):
                res.pending[k] = b
    res.matched = len(set(res.member_of.values()))
    return res


def addresses_parse(texts) -> dict[str, ParsedAddress | None]:
    """Each distinct address parsed once (cpca costs ~50 µs an address)."""
    unique = sorted({t for t in texts if t})
    return dict(zip(unique, parse_addresses_lenient(unique), strict=True))


def buyers_register(
    res: Resolution,
    keys: list[tuple],
    *,
    member_source: str,
    now: datetime,
    job_id: str,
    addresses: dict[str, ParsedAddress | None] | None = None,
) -> int:
    """Register the pending people of ``keys`` (inside the caller's transaction); ``addresses``
    holds addresses parsed already."""
    people = [res.pending[k] for k in keys]
    addresses = addresses if addresses is not None else addresses_parse(b.address for b in people)
    parsed = [addresses.get(b.address) for b in people]
    profiles = []
    for k, b, p in zip(keys, people, parsed, strict=True):
        prof = {"name": b.name[:60], "registered_at": b.at or now, **b.extra}
        if k[0] == "m":
            prof["mobile"] = k[1]
        if p is not None:
            prof.update(
                address_raw=p.raw[:255],
                province=p.province,
                city=p.city,
                district=p.district,
                address_detail=p.detail[:255],
                adcode=p.adcode,
            )
        elif b.address:
            prof["address_raw"] = b.address[:255]
        profiles.append(prof)
    ids = _members_insert(profiles, source=member_source, now=now, job_id=job_id)
    res.member_of.update(zip(keys, ids, strict=True))
    res.created += len(ids)
    return len(ids)


def refs_pending(res: Resolution, buyers: list[Buyer], *, ref_source: str) -> list[tuple[int, str, str]]:
    """The file's new references with their members: (member id, source, external id)."""
    pairs: dict[str, int] = {}
    for b in buyers:
        if b.ref and b.ref not in res.known_refs and b.ref not in pairs:
            mid = res.member(b)
            if mid is not None:
                pairs[b.ref] = mid
    return [(mid, ref_source, ref) for ref, mid in pairs.items()]
