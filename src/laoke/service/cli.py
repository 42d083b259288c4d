"""`laoke …` commands of service (thin adapters)."""

from __future__ import annotations


def add_parser(sub) -> None:
    pass
