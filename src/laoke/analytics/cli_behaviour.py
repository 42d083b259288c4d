def add_parser(sub) -> None:
    """Register this part's commands."""
