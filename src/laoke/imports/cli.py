"""`laoke import …` and `laoke export …` (thin adapters; exports in cli_exports)."""

from __future__ import annotations


def add_parser(sub) -> None:
    from . import cli_exports, cli_imports

    cli_imports.add_parser(sub)
    cli_exports.add_parser(sub)
