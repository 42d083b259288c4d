"""Demo data of the member pages: a few members sign in the way the H5 pages do (one-time code
by SMS, read back from the outbox row it is sent from), and one signs in daily. Called by
laoke/demo.py."""

from __future__ import annotations

import re

from laoke.members.models import Member
from laoke.messaging.models import Message

from .services import login_code_request, member_login


def demo_load(*, rng, now) -> dict:
    members = list(
        Member.objects.filter(status=Member.Status.ACTIVE, mobile__isnull=False).order_by("pk")[:50]
    )
    picked = rng.sample(members, min(3, len(members)))
    sessions = 0
    for member in picked:
        row = login_code_request(mobile=member.mobile)
        msg = Message.objects.filter(purpose=f"login_code:{row.pk}").first()
        if msg is None:
            continue
        code = re.search(r"\b(\d{6})\b", msg.body).group(1)
        member_login(mobile=member.mobile, code=code, user_agent="demo (iPhone; H5)")
        sessions += 1
    signed = 0
    if picked:
        try:
            from laoke.points.services import points_sign_in

            points_sign_in(member=picked[0])
            signed = 1
        except Exception:  # no active points programme, or already signed in today
            signed = 0
    return {"sessions": sessions, "signins": signed}
