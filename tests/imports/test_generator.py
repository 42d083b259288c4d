"""The seeded import-file generator, checked with pandas and phonenumbers (not with laoke's reader)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

import pandas as pd
import phonenumbers
import pytest

from laoke.imports.fields import FIELDS, default_mapping
from laoke.imports.generator import generic_files, taobao_files

N = 20_000
GUARD = re.compile(r"^=\"(\d+)\"$|^'(\d+)$|^(\d+)$")


def fen(series: pd.Series) -> pd.Series:
    return series.map(lambda v: int(Decimal(v) * 100))


def number(series: pd.Series) -> pd.Series:
    def one(v: str) -> str:
        m = GUARD.match(v)
        assert m, v
        return next(g for g in m.groups() if g)

    return series.map(one)


def frame(data: bytes, encoding: str = "gb18030") -> pd.DataFrame:
    df = pd.read_csv(io.BytesIO(data), encoding=encoding, dtype=str, keep_default_na=False)
    df.columns = [unicodedata.normalize("NFKC", c).strip() for c in df.columns]
    return df


@pytest.fixture(scope="module")
def taobao():
    orders, items = taobao_files(N, seed=2026)
    return orders, items, frame(orders), frame(items)


def test_same_seed_same_bytes_different_seed_different_bytes():
    a = taobao_files(2_000, seed=11)
    assert a == taobao_files(2_000, seed=11)
    b = taobao_files(2_000, seed=12)
    assert a[0] != b[0] and a[1] != b[1]
    # no dependence on the process (hash salt) or the clock
    code = (
        "import hashlib; from laoke.imports.generator import taobao_files as t; "
        "o, i = t(2000, seed=11); print(hashlib.sha256(o + i).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": "src"}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == hashlib.sha256(a[0] + a[1]).hexdigest()


def test_quirks_are_in_the_raw_file(taobao):
    orders, items, _, _ = taobao
    text = orders.decode("gb18030")
    header = text.split("\r\n", 1)[0].split(",")
    assert "订单编号 " in header and "买家会员名\u3000" in header and "店铺Ｉｄ" in header
    assert header[-2:] == ["", ""]
    assert '\r\n="2847' in text and "\r\n'2847" in text and re.search(r"\r\n2847\d+,", text)
    assert re.search(r",'1[3-9]\d{9},", text)  # a mobile with a leading apostrophe
    assert "\t," in text  # a tab after a tracking number
    assert '="2847' in items.decode("gb18030")
    orders.decode("gbk")  # nothing outside GBK: the same bytes are a valid GBK export


def test_orders_count_statuses_and_money(taobao):
    _, _, df, it = taobao
    assert len(df) == N
    df["no"] = number(df["订单编号"])
    assert df["no"].str.len().eq(19).all() and df["no"].is_unique
    it["no"] = number(it["主订单编号"])
    assert set(it["no"]) == set(df["no"])
    assert 1.4 <= len(it) / N <= 1.7  # ~1.5 items per order
    it["qty"] = it["购买数量"].astype(int)
    it["line"] = fen(it["价格"]) * it["qty"]
    it["ref"] = (it["退款状态"] == "退款成功").astype(int)
    per = it.groupby("no").agg(
        lines=("line", "size"), listed=("line", "sum"), qty=("qty", "sum"), refunded=("ref", "sum")
    )
    df = df.join(per, on="no")
    assert (df["lines"] == df["宝贝种类"].astype(int)).all()
    assert (df["qty"] == df["宝贝总数量"].astype(int)).all()
    payable, postage = fen(df["买家应付货款"]), fen(df["买家应付邮费"])
    paid, total, refund = fen(df["买家实际支付金额"]), fen(df["总金额"]), fen(df["退款金额"])
    # goods payable = Σ price × quantity, less a seller's price change now and then (≤ 5 %)
    change = df["listed"] - payable
    assert (change >= 0).all() and (change <= df["listed"] * 0.05).all()
    assert 0.85 <= (change == 0).mean() < 1
    is_paid = df["订单付款时间"] != ""
    coupon = (payable + postage - total)[is_paid]
    assert set(coupon.unique()) <= {0, 300, 500, 1000, 2000} and (coupon > 0).any()
    assert (paid[is_paid] == total[is_paid]).all()
    assert (paid[~is_paid] == 0).all() and (refund[~is_paid] == 0).all()
    status = df["订单状态"]
    shares = status.value_counts(normalize=True)
    assert shares["交易成功"] > 0.8
    assert set(shares.index) == {
        "交易成功",
        "卖家已发货，等待买家确认",
        "买家已付款，等待卖家发货",
        "交易关闭",
        "等待买家付款",
    }
    assert set(status[~is_paid]) == {"交易关闭", "等待买家付款"}
    unpaid_closed = df[(status == "交易关闭") & ~is_paid]
    assert len(unpaid_closed) > 0 and (unpaid_closed["订单关闭原因"] != "").all()
    refunded = (status == "交易关闭") & is_paid  # paid, then refunded in full
    assert refunded.sum() > 0 and (refund[refunded] == paid[refunded]).all()
    assert (df.loc[refunded, "refunded"] == df.loc[refunded, "lines"]).all()
    partial = (status == "交易成功") & (refund > 0)
    assert partial.sum() > 0 and (df.loc[partial, "refunded"] == 1).all()
    assert (df.loc[partial, "lines"] >= 2).all() and (refund[partial] <= (paid - postage)[partial]).all()
    assert (df.loc[~refunded & ~partial, "refunded"] == 0).all()
    kept = fen(df["打款商家金额"])
    assert (kept[status == "交易成功"] == (paid - refund)[status == "交易成功"]).all()


def test_buyers_phones_addresses_and_dates(taobao):
    _, _, df, _ = taobao
    df["phone"] = phones = df["联系手机"].str.lstrip("'")
    buyers = df.groupby(["买家会员名", "phone"]).size()
    assert 0.97 * N / 2.5 <= len(buyers) <= N / 2.5
    assert df.groupby(["买家会员名", "phone"])["订单编号"].transform("size").gt(1).mean() > 0.5
    masked = phones.str.contains(r"\*")
    assert 0.02 < masked.mean() < 0.15
    assert phones[masked].str.fullmatch(r"1\d\d\*{4}\d{4}").all()
    for raw in phones[~masked].unique()[:3000]:
        n = phonenumbers.parse(raw, "CN")
        assert phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ), raw
    nick_masked = df["买家会员名"].str.fullmatch(r".\*\*.")
    assert 0.02 < nick_masked.mean() < 0.1 and (nick_masked & masked).any()  # some identify nobody
    assert df["买家支付宝账号"].str.contains(r"\*\*\*").all()
    assert df["收货地址"].str.contains(r"\(\d{3,6}\)$").all()
    for region in ("香港", "澳门", "台湾", "新疆", "西藏"):
        assert df["收货地址"].str.startswith(region).any(), region
    created = pd.to_datetime(df["订单创建时间"])
    assert created.min() >= pd.Timestamp("2023-11-01") and created.max() < pd.Timestamp("2026-11-01")
    paid_at = pd.to_datetime(df["订单付款时间"].where(df["订单付款时间"] != ""))
    assert (paid_at.dropna() >= created[paid_at.notna()]).all()
    daily = created.dt.date.value_counts()
    assert daily[pd.Timestamp("2025-11-11").date()] > 5 * daily.median()  # the Double-11 spike


def test_utf8_variant_items_off_and_xlsx():
    gb, _ = taobao_files(300, seed=5, items=False)
    utf, items = taobao_files(300, seed=5, encoding="utf-8-sig", items=False)
    assert items is None and utf.startswith(b"\xef\xbb\xbf")
    assert utf.decode("utf-8-sig") == gb.decode("gb18030")
    from openpyxl import load_workbook

    book, item_book = taobao_files(300, seed=5, xlsx=True)
    ws = load_workbook(io.BytesIO(book), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 301
    csv_numbers = set(number(frame(gb)["订单编号"]))
    assert {r[0].lstrip("'") for r in rows[1:]} == csv_numbers  # text, no formula
    assert item_book is not None and item_book[:4] == b"PK\x03\x04"


def test_generic_files_reference_each_other():
    members = frame(generic_files("members", 200, seed=5), "utf-8-sig")
    products = frame(generic_files("products", 50, seed=5), "utf-8-sig")
    orders = frame(generic_files("orders", 300, seed=5, products=50, members=200), "utf-8-sig")
    coupons = frame(generic_files("coupons", 100, seed=5, members=200), "utf-8-sig")
    for kind, df in (("members", members), ("products", products), ("orders", orders), ("coupons", coupons)):
        mapping = default_mapping(kind, list(df.columns))
        assert {f.name for f in FIELDS[kind] if f.required} <= set(mapping), kind
        assert set(mapping.values()) == set(df.columns), kind  # every column is understood
    assert members["手机号"].is_unique and members["会员编号"].is_unique and products["商家编码"].is_unique
    assert set(orders["商家编码"]) <= set(products["商家编码"])
    assert set(orders["手机号"]) <= set(members["手机号"])
    assert set(orders["会员编号"]) <= set(members["会员编号"])
    assert orders["订单编号"].nunique() == 300 and len(orders) > 300  # several lines per order
    qty, back = orders["数量"].astype(int), orders["退货数量"].replace("", "0").astype(int)
    assert (back <= qty).all() and (back > 0).any()
    assert (fen(orders["实付金额"]) <= fen(orders["单价"]) * qty).all()
    assert set(coupons["手机号"]) - {""} <= set(members["手机号"]) and coupons["券码"].is_unique
    # record i depends on (seed, i) only: a shorter file is a prefix of a longer one
    assert generic_files("products", 50, seed=5).startswith(generic_files("products", 10, seed=5)[:-2])
    assert generic_files("members", 20, seed=5) == generic_files("members", 20, seed=5)
    assert generic_files("members", 20, seed=6) != generic_files("members", 20, seed=5)
