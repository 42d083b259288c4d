"""Member H5 pages (SPEC 17): a member session opened by a one-time SMS code, the member's own
data and actions under /api/v1/me/, and the mobile pages at /m/."""
