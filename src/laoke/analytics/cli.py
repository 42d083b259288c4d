"""`laoke campaign report|import-external`, `laoke clv …` and `laoke analytics …` (thin adapters;
each part keeps its commands in its own module)."""

from __future__ import annotations


def add_parser(sub, campaign_sub) -> None:
    from . import cli_baskets, cli_behaviour, cli_clv, cli_evaluation

    cli_evaluation.add_parser(campaign_sub)
    cli_clv.add_parser(sub)
    analytics = sub.add_parser(
        "analytics", help="reports: baskets, product roles, traffic, cohorts"
    ).add_subparsers(dest="analytics_command", required=True)
    cli_baskets.add_parser(analytics)
    cli_behaviour.add_parser(analytics)
