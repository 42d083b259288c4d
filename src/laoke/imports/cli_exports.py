"""`laoke export KIND …`."""

from __future__ import annotations


def add_parser(sub) -> None:
    pass
