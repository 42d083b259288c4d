"""`laoke …` commands of staff (thin adapters)."""

from __future__ import annotations


def add_parser(sub) -> None:
    pass
