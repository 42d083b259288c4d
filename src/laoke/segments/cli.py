"""`laoke segment …` (thin over the services)."""

from __future__ import annotations


def add_parser(sub) -> None:
    """Register the `laoke segment` commands (none yet)."""
