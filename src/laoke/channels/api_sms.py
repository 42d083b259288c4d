"""/api/v1/channels/sms: provider callbacks (delivery receipts, inbound replies)."""

from ninja import Router

router = Router(tags=["channels"])
