"""Evaluation and analytics (SPEC 11): what each wave earned against its control, who the customers
are (RFM, cohorts, CLV), what they buy together, how they move through the shop, which products
play which role, and what an event should bring."""
