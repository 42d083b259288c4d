"""B2B customers and the sales pipeline (SPEC 14): big-customer accounts A–D, the six-stage
pipeline, approvals, payment collection, the funnel; hotel charge-account customers."""
