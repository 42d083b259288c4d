"""Frequent itemsets and rules against mlxtend (the independent reference) and the published UCI
Online Retail figures (data/README.md)."""

from __future__ import annotations

import gzip
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import association_rules as mlx_rules
from mlxtend.frequent_patterns import fpgrowth
from mlxtend.preprocessing import TransactionEncoder

from laoke.analytics.association import (
    Baskets,
    association_rules,
    frequent_itemsets,
    read_online_retail,
)

UCI = Path("/work/shared/data/online_retail/online_retail.csv.gz")
TOL = 1e-12


def _generated(seed: int = 7, n: int = 1500) -> list[list[str]]:
    """Baskets with planted co-purchases (tea+cup+saucer, pen+ink) over a long tail of items."""
    rng = np.random.default_rng(seed)
    tail = [f"i{k:02d}" for k in range(40)]
    weights = 1.0 / np.arange(1, 41)
    weights /= weights.sum()
    out = []
    for _ in range(n):
        basket = [str(x) for x in rng.choice(tail, size=rng.integers(1, 7), p=weights)]
        if rng.random() < 0.2:
            basket += ["tea", "cup"] + (["saucer"] if rng.random() < 0.6 else [])
        if rng.random() < 0.1:
            basket += ["pen", "ink"] if rng.random() < 0.7 else ["pen"]
        if rng.random() < 0.05:
            basket += basket[:2]  # repeated lines of the same item
        out.append(basket)
    return out


def _mlxtend(baskets: list[list[str]], min_support: float, max_len=None):
    te = TransactionEncoder()
    df = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    return fpgrowth(df, min_support=min_support, use_colnames=True, max_len=max_len), len(df)


def _rule_map(rules) -> dict:
    return {
        (frozenset(r.antecedent), frozenset(r.consequent)): (
            r.antecedent_support,
            r.consequent_support,
            r.support,
            r.confidence,
            r.lift,
            r.leverage,
            r.conviction,
        )
        for r in rules
    }


def _mlx_rule_map(df) -> dict:
    cols = [
        "antecedent support",
        "consequent support",
        "support",
        "confidence",
        "lift",
        "leverage",
        "conviction",
    ]
    return {(a, c): tuple(row) for a, c, row in zip(df["antecedents"], df["consequents"], df[cols].values)}


def _assert_same_values(ours: dict, ref: dict) -> None:
    assert set(ours) == set(ref)
    for key, values in ref.items():
        for mine, theirs in zip(ours[key], values, strict=True):
            if math.isinf(theirs):
                assert math.isinf(mine), key
            else:
                assert abs(mine - theirs) <= TOL, (key, mine, theirs)


@pytest.mark.parametrize(
    ("min_support", "metric", "threshold"), [(0.02, "lift", 1.0), (0.01, "confidence", 0.3)]
)
def test_same_itemsets_and_rules_as_mlxtend(min_support, metric, threshold):
    data = _generated()
    ref, n = _mlxtend(data, min_support)
    ours = frequent_itemsets(Baskets.from_lists(data), min_support=min_support)
    assert ours.n_baskets == n
    mine = ours.as_dict()
    theirs = dict(zip(ref["itemsets"], ref["support"]))
    assert len(theirs) > 100 and max(map(len, theirs)) >= 3  # a search that goes deep
    assert set(mine) == set(theirs)
    assert all(abs(mine[k] - theirs[k]) <= TOL for k in theirs)

    rules = association_rules(ours, metric=metric, min_threshold=threshold)
    ref_rules = mlx_rules(ref, num_itemsets=n, metric=metric, min_threshold=threshold)
    assert len(rules) == len(ref_rules) > 20
    _assert_same_values(_rule_map(rules), _mlx_rule_map(ref_rules))


def test_max_len_as_mlxtend():
    data = _generated(seed=11)
    ref, _ = _mlxtend(data, 0.01, max_len=2)
    ours = frequent_itemsets(Baskets.from_lists(data), min_support=0.01, max_len=2)
    assert set(ours.as_dict()) == set(ref["itemsets"])
    assert max(map(len, ours.itemsets)) == 2


def test_borderline_support_decided_like_mlxtend():
    # 3 baskets, min_support 1/3: count 1 passes exactly at the boundary (float predicate).
    data = [["a", "b"], ["b", "c"], ["c"]]
    ref, _ = _mlxtend(data, 1 / 3)
    ours = frequent_itemsets(Baskets.from_lists(data), min_support=1 / 3)
    assert (
        set(ours.as_dict())
        == set(ref["itemsets"])
        == {
            frozenset("a"),
            frozenset("b"),
            frozenset("c"),
            frozenset("ab"),
            frozenset("bc"),
        }
    )


def test_no_frequent_items_is_empty_not_an_error():
    data = [["a"], ["b"], ["c"], ["d"]]
    ours = frequent_itemsets(Baskets.from_lists(data), min_support=0.5)
    assert len(ours) == 0
    assert association_rules(ours) == []
    empty = frequent_itemsets(Baskets.from_lists([]), min_support=0.1)
    assert len(empty) == 0 and empty.n_baskets == 0
    assert association_rules(empty, metric="confidence", min_threshold=0.5) == []


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # mlxtend's certainty
def test_one_basket():
    data = [["x", "y", "z"]]
    ref, n = _mlxtend(data, 1.0)
    ours = frequent_itemsets(Baskets.from_lists(data), min_support=1.0)
    assert len(ours) == 7 and set(ours.as_dict()) == set(ref["itemsets"])
    rules = association_rules(ours, metric="confidence", min_threshold=1.0)
    ref_rules = mlx_rules(ref, num_itemsets=n, metric="confidence", min_threshold=1.0)
    assert len(rules) == 12  # 6 pair rules + 6 rules out of the triple
    _assert_same_values(_rule_map(rules), _mlx_rule_map(ref_rules))
    assert all(math.isinf(r.conviction) and r.as_dict()["conviction"] is None for r in rules)


def test_duplicates_within_a_basket_count_once():
    with_dups = [["a", "a", "b"], ["a", "b", "b", "b"], ["c", "c"]]
    clean = [["a", "b"], ["a", "b"], ["c"]]
    a = frequent_itemsets(Baskets.from_lists(with_dups), min_support=0.5).as_dict()
    b = frequent_itemsets(Baskets.from_lists(clean), min_support=0.5).as_dict()
    assert a == b == {frozenset("a"): 2 / 3, frozenset("b"): 2 / 3, frozenset("ab"): 2 / 3}
    pairs = Baskets.from_pairs(["o1", "o1", "o1", "o2", "o2", "o3"], ["a", "a", "b", "a", "b", "c"])
    assert pairs.n == 3 and list(np.diff(pairs.indptr)) == [2, 2, 1]
    assert frequent_itemsets(pairs, min_support=0.5).as_dict() == b


def test_bad_arguments():
    b = Baskets.from_lists([["a"]])
    with pytest.raises(ValueError):
        frequent_itemsets(b, min_support=0)
    with pytest.raises(ValueError):
        frequent_itemsets(b, min_support=0.5, max_len=0)
    with pytest.raises(ValueError):
        association_rules(frequent_itemsets(b, min_support=0.5), metric="zhang")


def test_reader_cleaning(tmp_path):
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "1,A,x,2,2011-01-01 10:00,1.5,10,United Kingdom\n"
        "1,B,x,1,2011-01-01 10:00,2,10,United Kingdom\n"
        "C2,A,x,-1,2011-01-02 10:00,1.5,10,United Kingdom\n"  # cancellation
        "3,A,x,0,2011-01-03 10:00,1.5,,United Kingdom\n"  # zero quantity
        "4,B,x,1,2011-01-03 10:00,0,,United Kingdom\n"  # zero price
        '5,C,"a, b",1,2011-01-03 10:00,1,11,France\n'  # other country
        "6,POST,x,1,2011-01-03 10:00,18,,United Kingdom\n"
    )
    path = tmp_path / "r.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text)
    assert read_online_retail(path) == (["1", "1", "6"], ["A", "B", "POST"])
    assert read_online_retail(path, country=None)[0] == ["1", "1", "5", "6"]


def test_uci_online_retail_published_counts():
    """data/README.md: UK invoices, cancellations and non-positive quantities/prices removed →
    18,019 baskets × 3,916 items; min_support 0.01 → 2,316 itemsets and 4,986 rules with lift ≥ 1."""
    started = time.perf_counter()
    invoices, codes = read_online_retail(UCI)
    baskets = Baskets.from_pairs(invoices, codes)
    assert (baskets.n, len(baskets.labels)) == (18_019, 3_916)
    itemsets = frequent_itemsets(baskets, min_support=0.01)
    assert len(itemsets) == 2_316
    rules = association_rules(itemsets, metric="lift", min_threshold=1.0)
    assert len(rules) == 4_986
    assert all(r.lift >= 1.0 for r in rules)
    # Independently: the pair supports of the first rules recounted from the raw lines with pandas.
    lines = pd.DataFrame({"inv": invoices, "code": codes}).drop_duplicates()
    sets = lines.groupby("inv")["code"].agg(frozenset)
    for r in rules[:5]:
        items = set(r.antecedent) | set(r.consequent)
        assert sum(items <= s for s in sets) == r.count
        assert abs(r.support - r.count / 18_019) <= TOL
    assert time.perf_counter() - started < 15


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_shops_as_mlxtend(seed):
    """Dense and sparse random baskets, deep itemsets, with and without max_len."""
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(8, 20))
    p = rng.uniform(0.05, 0.5, size=n_items)
    data = [
        [f"x{i}" for i in np.flatnonzero(rng.random(n_items) < p)] for _ in range(int(rng.integers(50, 400)))
    ]
    min_support = float(rng.choice([0.02, 0.05, 0.1]))
    max_len = [None, 3][seed % 2]
    ref, n = _mlxtend(data, min_support, max_len=max_len)
    ours = frequent_itemsets(Baskets.from_lists(data), min_support=min_support, max_len=max_len)
    mine, theirs = ours.as_dict(), dict(zip(ref["itemsets"], ref["support"]))
    assert max(map(len, theirs)) >= 3  # deep enough to exercise every level
    assert set(mine) == set(theirs) and all(abs(mine[k] - theirs[k]) <= TOL for k in theirs)
    rules = association_rules(ours, metric="confidence", min_threshold=0.5)
    ref_rules = mlx_rules(ref, num_itemsets=n, metric="confidence", min_threshold=0.5)
    _assert_same_values(_rule_map(rules), _mlx_rule_map(ref_rules))
