def add_parser(sub) -> None:
    """Register `laoke clv …`."""
