"""`laoke import taobao|members|orders|products|coupons FILE`."""

from __future__ import annotations


def add_parser(sub) -> None:
    pass
