"""Frequent itemsets and association rules (SPEC 11: 关联销售, cross-selling): NumPy and SciPy only.

Design
------
*Baskets* are kept in CSR form (``indptr`` / ``indices`` over integer item codes, one entry per
distinct item of a basket — duplicates within a basket collapse, as in a boolean basket matrix).

*Itemsets* are found by **Eclat over packed tid bitsets**, with the pair level counted at once,
rather than by FP-growth:

- Pairs: the counts of every pair of frequent items come from one sparse product XᵀX of the
  basket × item incidence matrix (SciPy's C++ CSR product; work ∝ Σ basket sizes², not
  items² × baskets).
- Deeper: each frequent item's set of baskets is one row of packed bits (``uint64`` words); the
  support of an itemset is the popcount of the AND of its items' rows (``np.bitwise_count``). The
  search is depth-first over a prefix: a node ANDs its own bitset with the rows of all later
  candidates in ONE vectorised NumPy operation and keeps those whose popcount reaches the
  minimum count, so the Python-level work is one step per *frequent* itemset (a few thousand on
  the UCI Online Retail data) and the inner work is word-parallel C loops. Only the words where
  the prefix has baskets are touched, and a prefix held by few baskets has its candidates
  re-packed over those baskets only (``_project``), so deep levels cost little.
- Baskets with fewer than two frequent items are dropped before packing, and the rest numbered
  by how many frequent items they hold, so an item's bits crowd into few words.
- Why not FP-growth: in Python it walks a pointer tree node by node (mlxtend's takes seconds on
  the UCI UK baskets, ``bench/association.py``); here the same itemsets take a fraction of a
  second (measured next to each other in the benchmark).

*Supports* are ``count / n`` (float64), an itemset is frequent when ``count / n >= min_support``
— the same predicate as mlxtend's ``fpgrowth``, so the same itemsets come out. *Rules* enumerate,
for every frequent itemset of two or more items, every non-empty proper subset as antecedent (as
``mlxtend.frequent_patterns.association_rules`` does) and keep those whose chosen metric reaches
the threshold: confidence = count(A∪C) / count(A), lift = confidence / support(C), leverage =
support(A∪C) − support(A)·support(C), conviction = (1 − support(C)) / (1 − confidence) (∞ when the
confidence is 1).

``read_online_retail`` reads the UCI Online Retail file with the cleaning that gives the published
shape (data/README.md): one country's invoices, cancellations (InvoiceNo starting with ``C``) and
non-positive quantities or prices removed → 18,019 baskets × 3,916 stock codes for the UK.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy import sparse

METRICS = ("support", "confidence", "lift", "leverage", "conviction")


@dataclass(frozen=True)
class Baskets:
    """Baskets in CSR form: basket ``b`` holds item codes ``indices[indptr[b]:indptr[b + 1]]``
    (distinct, ascending); ``labels[code]`` is the item's label (a SKU, a category code, …);
    ``keys[b]`` the basket's own key (an order id, an invoice number) when known."""

    labels: list
    indptr: np.ndarray
    indices: np.ndarray
    keys: list | None = None

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def from_pairs(cls, basket_keys: Sequence[Hashable], item_keys: Sequence[Hashable]) -> Baskets:
        """From parallel (basket, item) sequences, e.g. invoice lines or order lines. Repeated
        pairs count once. Baskets and items are numbered in order of first appearance."""
        if len(basket_keys) != len(item_keys):
            raise ValueError("basket_keys and item_keys differ in length")
        b_codes, b_labels = _factorize(basket_keys)
        i_codes, i_labels = _factorize(item_keys)
        n_items = max(len(i_labels), 1)
        pair = np.sort(b_codes * n_items + i_codes)  # np.unique is ~30× slower here (NumPy 2.4)
        if len(pair):
            pair = pair[np.concatenate(([True], pair[1:] != pair[:-1]))]
        baskets, items = np.divmod(pair, n_items)
        indptr = np.zeros(len(b_labels) + 1, dtype=np.int64)
        np.cumsum(np.bincount(baskets, minlength=len(b_labels)), out=indptr[1:])
        return cls(labels=i_labels, indptr=indptr, indices=items.astype(np.int64), keys=b_labels)

    @classmethod
    def from_lists(cls, baskets: Iterable[Iterable[Hashable]]) -> Baskets:
        """From an iterable of baskets (each an iterable of item labels). Empty baskets count in
        ``n`` (they lower every support), exactly like an all-False row of a basket matrix."""
        index: dict = {}
        indptr = [0]
        indices: list[int] = []
        for basket in baskets:
            codes = sorted({index.setdefault(item, len(index)) for item in basket})
            indices.extend(codes)
            indptr.append(len(indices))
        return cls(
            labels=list(index),
            indptr=np.asarray(indptr, dtype=np.int64),
            indices=np.asarray(indices, dtype=np.int64),
        )

    def item_counts(self) -> np.ndarray:
        """How many baskets hold each item (indexed by item code)."""
        return np.bincount(self.indices, minlength=len(self.labels))


def _factorize(keys: Sequence[Hashable]) -> tuple[np.ndarray, list]:
    index: dict = {}
    codes = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64, count=len(keys))
    return codes, list(index)


@dataclass(frozen=True)
class FrequentItemsets:
    """Frequent itemsets as tuples of item codes (ascending) with their basket counts."""

    n_baskets: int
    labels: list
    itemsets: list[tuple[int, ...]]
    counts: list[int]
    min_support: float

    def __len__(self) -> int:
        return len(self.itemsets)

    def supports(self) -> list[float]:
        return [c / self.n_baskets for c in self.counts]

    def as_dict(self) -> dict[frozenset, float]:
        """frozenset of labels → support (the shape of mlxtend's result, for comparisons)."""
        n, labels = self.n_baskets, self.labels
        return {
            frozenset(labels[i] for i in s): c / n for s, c in zip(self.itemsets, self.counts, strict=True)
        }


def min_count_for(min_support: float, n: int) -> int:
    """The smallest basket count ``c ≥ 1`` with ``c / n >= min_support`` (the float predicate
    mlxtend applies, so borderline itemsets are decided the same way)."""
    c = max(1, math.ceil(min_support * n) - 1)
    while c / n < min_support:
        c += 1
    return c


def frequent_itemsets(
    baskets: Baskets, *, min_support: float, max_len: int | None = None
) -> FrequentItemsets:
    """Every itemset held by at least ``min_support`` (a fraction of all baskets) of the baskets,
    up to ``max_len`` items. No baskets or no frequent item → an empty result."""
    if not 0 < min_support <= 1:
        raise ValueError("min_support must be in (0, 1]")
    if max_len is not None and max_len < 1:
        raise ValueError("max_len must be at least 1")
    n = baskets.n
    out_sets: list[tuple[int, ...]] = []
    out_counts: list[int] = []
    result = FrequentItemsets(n, baskets.labels, out_sets, out_counts, min_support)
    if n == 0:
        return result
    min_count = min_count_for(min_support, n)
    counts = baskets.item_counts()
    frequent = np.flatnonzero(counts >= min_count)
    for code in frequent.tolist():
        out_sets.append((code,))
        out_counts.append(int(counts[code]))
    if len(frequent) < 2 or max_len == 1:
        return result

    # Only the baskets holding ≥ 2 frequent items can hold a pair.
    row_of = np.full(len(baskets.labels), -1, dtype=np.int64)
    row_of[frequent] = np.arange(len(frequent))
    rows = row_of[baskets.indices]
    basket_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(baskets.indptr))
    keep = rows >= 0
    rows, basket_of = rows[keep], basket_of[keep]
    per_basket = np.bincount(basket_of, minlength=n)
    useful = per_basket >= 2
    n_useful = int(useful.sum())
    if n_useful == 0:
        return result
    # Baskets numbered by how many frequent items they hold (most first): each item's bits crowd
    # into the first words, so a prefix's zero words are many and skipped below.
    renumber = np.empty(n, dtype=np.int64)
    renumber[np.argsort(-per_basket, kind="stable")] = np.arange(n)
    keep = useful[basket_of]
    rows, tids = rows[keep], renumber[basket_of[keep]]
    n_freq = len(frequent)

    # Pair level: every pair's count at once, as the sparse product XᵀX of the basket × item
    # incidence matrix (work ∝ Σ baskets' squared sizes, not items² × baskets).
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (tids, rows)), shape=(n_useful, n_freq))
    pairs = sparse.triu(x.T @ x, k=1).tocsr()
    pairs.sort_indices()

    # Rows of packed bits (uint64 words), one per frequent item, for the levels below.
    words = (n_useful + 63) // 64
    nbytes = words * 8
    flat = rows * nbytes + (tids >> 3)
    packed = np.bincount(flat, weights=(1 << (tids & 7)).astype(np.float64), minlength=n_freq * nbytes)
    bits = packed.astype(np.uint8).view(np.uint64).reshape(n_freq, words)

    limit = max_len if max_len is not None else n_freq
    # Depth-first from each frequent pair's first item: (prefix codes, the bitsets of prefix ∪
    # {candidate} for its candidates, their codes).
    stack: list[tuple[tuple[int, ...], np.ndarray, np.ndarray]] = []
    for a in range(n_freq):
        lo, hi = pairs.indptr[a], pairs.indptr[a + 1]
        ok = pairs.data[lo:hi] >= min_count
        if not ok.any():
            continue
        partners = pairs.indices[lo:hi][ok]
        head = int(frequent[a])
        for b, c in zip(frequent[partners].tolist(), pairs.data[lo:hi][ok].tolist(), strict=True):
            out_sets.append((head, b))
            out_counts.append(c)
        if len(partners) > 1 and limit > 2:
            row = bits[a]
            nz = np.flatnonzero(row)
            stack.append(((head,), _project(bits[partners][:, nz] & row[nz], row[nz]), frequent[partners]))
    while stack:
        prefix, cand_bits, cand_codes = stack.pop()
        depth = len(prefix) + 1
        for j in range(len(cand_codes) - 1):
            if depth >= limit:
                break
            here = (*prefix, int(cand_codes[j]))
            row = cand_bits[j]
            nz = np.flatnonzero(row)
            if len(nz) * 2 < len(row):  # only the words where the prefix has baskets
                row = row[nz]
                inter = cand_bits[j + 1 :, nz] & row
            else:
                inter = cand_bits[j + 1 :] & row
            sup = np.bitwise_count(inter).sum(axis=1, dtype=np.int64)
            ok = np.flatnonzero(sup >= min_count)
            if not len(ok):
                continue
            ext_codes = cand_codes[j + 1 :][ok]
            for code, c in zip(ext_codes.tolist(), sup[ok].tolist(), strict=True):
                out_sets.append((*here, code))
                out_counts.append(c)
            if len(ok) > 1 and depth + 1 < limit:
                stack.append((here, _project(inter[ok], row), ext_codes))
    return result


def _project(rows: np.ndarray, prefix: np.ndarray) -> np.ndarray:
    """``rows`` (all subsets of ``prefix``) re-packed over the prefix's baskets only, when that
    shrinks them at least fourfold: a deep prefix held by 1% of the baskets then costs 1% of the
    words at every node below it (the bits outside the prefix are zero in every row anyway)."""
    words = rows.shape[1]
    count = int(np.bitwise_count(prefix).sum())
    if count * 4 > words * 64:
        return rows
    tids = np.flatnonzero(np.unpackbits(np.ascontiguousarray(prefix).view(np.uint8), bitorder="little"))
    dense = np.unpackbits(np.ascontiguousarray(rows).view(np.uint8), axis=1, bitorder="little")[:, tids]
    out_words = (count + 63) // 64
    packed = np.zeros((rows.shape[0], out_words * 8), dtype=np.uint8)
    packed[:, : (count + 7) // 8] = np.packbits(dense, axis=1, bitorder="little")
    return packed.view(np.uint64)


@dataclass(frozen=True, slots=True)
class Rule:
    """A → C with mlxtend's measures (supports are fractions of all baskets)."""

    antecedent: tuple
    consequent: tuple
    antecedent_support: float
    consequent_support: float
    support: float
    confidence: float
    lift: float
    leverage: float
    conviction: float  # math.inf when the confidence is 1
    count: int  # baskets holding A ∪ C

    def as_dict(self) -> dict:
        return {
            "antecedent": list(self.antecedent),
            "consequent": list(self.consequent),
            "antecedent_support": self.antecedent_support,
            "consequent_support": self.consequent_support,
            "support": self.support,
            "confidence": self.confidence,
            "lift": self.lift,
            "leverage": self.leverage,
            "conviction": None if math.isinf(self.conviction) else self.conviction,
            "count": self.count,
        }


def association_rules(
    itemsets: FrequentItemsets, *, metric: str = "lift", min_threshold: float = 1.0
) -> list[Rule]:
    """Every rule A → C (A, C non-empty, disjoint, A ∪ C frequent) whose ``metric`` (one of
    ``METRICS``) is ≥ ``min_threshold``, sorted by lift, then confidence, then support
    (descending). Item labels in each side are in ascending code order."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}")
    n = itemsets.n_baskets
    labels = itemsets.labels
    count_of = dict(zip(itemsets.itemsets, itemsets.counts, strict=True))
    rules: list[Rule] = []
    pick = METRICS.index(metric)
    for items, c_ac in count_of.items():
        if len(items) < 2:
            continue
        s_ac = c_ac / n
        for size in range(len(items) - 1, 0, -1):
            for ante in combinations(items, size):
                cons = tuple(i for i in items if i not in ante)
                c_a, c_c = count_of[ante], count_of[cons]
                s_a, s_c = c_a / n, c_c / n
                confidence = c_ac / c_a
                lift = confidence / s_c
                leverage = s_ac - s_a * s_c
                conviction = math.inf if confidence >= 1.0 else (1.0 - s_c) / (1.0 - confidence)
                if (s_ac, confidence, lift, leverage, conviction)[pick] >= min_threshold:
                    rules.append(
                        Rule(
                            tuple([labels[i] for i in ante]),
                            tuple([labels[i] for i in cons]),
                            s_a,
                            s_c,
                            s_ac,
                            confidence,
                            lift,
                            leverage,
                            conviction,
                            c_ac,
                        )
                    )
    rules.sort(key=lambda r: (-r.lift, -r.confidence, -r.support, r.antecedent, r.consequent))
    return rules


def read_online_retail(path: str | Path, *, country: str | None = "United Kingdom") -> tuple[list, list]:
    """(invoice numbers, stock codes), one pair per kept line of the UCI Online Retail CSV (plain
    or ``.gz``): the country's invoices (all when ``country`` is None) without cancellations
    (InvoiceNo starting with ``C``) and without lines whose quantity or unit price is not
    positive. Stock codes are kept as written (the published 3,916 items count them so)."""
    path = Path(path)
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    invoices: list = []
    codes: list = []
    with raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as text:
        reader = csv.reader(text)
        header = next(reader)
        col = {name.strip(): i for i, name in enumerate(header)}
        i_inv, i_code, i_qty, i_price, i_country = (
            col["InvoiceNo"],
            col["StockCode"],
            col["Quantity"],
            col["UnitPrice"],
            col["Country"],
        )
        for row in reader:
            if country is not None and row[i_country] != country:
                continue
            inv = row[i_inv]
            if inv.startswith("C"):
                continue
            try:
                if float(row[i_qty]) <= 0 or float(row[i_price]) <= 0:
                    continue
            except ValueError:
                continue
            invoices.append(inv)
            codes.append(row[i_code])
    return invoices, codes
