"""Writes of the member pages: one-time login codes, member sessions (decision 0032).

Login, in order:

1. ``login_code_request``: per-IP and per-mobile limits (core.ratelimit, guarded UPDATE rows shared
   by every process: 1 a minute and 5 an hour per mobile, 20 an hour per IP), then one durable
   transaction writes the ``LoginCode`` (keyed hash only) and, for a registered member, the SMS
   as a transactional outbox row (``login_code:{id}``) sent after commit. An unknown mobile gets
   the same SMS straight from the SMS provider after commit (the outbox is per member, and no
   member may exist before the agreement is accepted). The answer never says which case it was.
2. ``member_login``: the newest live code of the mobile gets one attempt reserved by a guarded
   UPDATE (``attempts < 5``) in its own committed transaction, then the HMAC is compared in
   constant time. A right code is spent by a guarded UPDATE (``used_at IS NULL``: single use
   under concurrency) in the same durable transaction that opens the session. An unknown mobile
   registers a member (members.member_create, recording the accepted agreement) only with
   ``accept_agreement``; without it the code is not spent and the attempt is given back.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from laoke.core import clock, ratelimit
from laoke.core.audit import audit_write
from laoke.core.errors import RATE_LIMITED, DomainError
from laoke.members.models import Agreement, Member
from laoke.members.validation import normalize_mobile
from laoke.messaging.models import Message
from laoke.messaging.services import _message_enqueue

from .error_codes import (
    LOGIN_AGREEMENT_REQUIRED,
    LOGIN_CODE_EXHAUSTED,
    LOGIN_CODE_INVALID,
    LOGIN_CODE_TOO_SOON,
    PORTAL_MEMBER_INACTIVE,
)
from .models import MAX_CODE_ATTEMPTS, LoginCode, MemberSession

log = logging.getLogger("laoke.portal")

CODE_TTL = timedelta(minutes=5)
SESSION_TTL = timedelta(days=14)
PER_MOBILE_MINUTE = 1
PER_MOBILE_HOUR = 5
PER_IP_HOUR = 20
VERIFY_FAILURES_PER_IP_HOUR = 50

# Test-only switches for the negative controls of the race tests (tests/portal/test_race_pg.py):
# reserve attempts by read-check-write, and spend the code without the ``used_at IS NULL`` guard.
_UNGUARDED_ATTEMPTS_FOR_TESTS = False
_UNGUARDED_SPEND_FOR_TESTS = False


@dataclass(frozen=True)
class MemberActor:
    """Who the audit trail names for a member's own action (not a staff user: no pk, no perms)."""

    member_id: int
    code: str
    pk = None

    def get_username(self) -> str:
        return f"member:{self.code}"


def actor_for(member: Member) -> MemberActor:
    return MemberActor(member.pk, member.code)


def _clean_ip(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None


def _code_hash(mobile: str, code: str) -> str:
    key = hashlib.sha256(("laoke.portal.login_code" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mobile(raw) -> str:
    mobile = normalize_mobile(raw if isinstance(raw, str) else None, field="mobile")
    if not mobile:
        raise DomainError(LOGIN_CODE_INVALID, field="mobile")
    return mobile


def _code_text(code: str) -> str:
    return f"【老客】您的登录验证码 {code}，5 分钟内有效。如非本人操作请忽略。Your code: {code}"


def _send_direct(mobile: str, body: str, code_id: int) -> None:
    """After commit: the code of an unknown mobile goes straight to the SMS provider."""
    from types import SimpleNamespace

    from laoke.messaging.providers import provider_for
    from laoke.messaging.services import sms_segments

    now = clock.now()
    message = SimpleNamespace(
        pk=f"otp{code_id}",
        purpose=f"login_code:{code_id}",
        kind=Message.Kind.TRANSACTIONAL,
        channel=Message.Channel.SMS,
        to_address=mobile,
        subject="",
        body=body,
        html_body="",
        segments=sms_segments(body),
        created_at=now,
        template_code="",
        template_params=None,
        member_id=None,
    )
    try:
        provider_for("sms").send(message)
    except Exception:  # the member asks for another code; nothing to roll back
        log.exception("login code SMS failed", extra={"code_id": code_id})


def login_code_request(*, mobile: str, ip: str | None = None) -> LoginCode:
    """Send a 6-digit one-time code to ``mobile``."""
    mobile = _mobile(mobile)
    ip = _clean_ip(ip)
    now = clock.now()
    if ip and not ratelimit.hit(f"portal_code:ip:{ip}", limit=PER_IP_HOUR, window_seconds=3600, now=now):
        raise DomainError(RATE_LIMITED)
    if not ratelimit.hit(f"portal_code:m1:{mobile}", limit=PER_MOBILE_MINUTE, window_seconds=60, now=now):
        raise DomainError(LOGIN_CODE_TOO_SOON, seconds=60 - int(now.timestamp()) % 60)
    if not ratelimit.hit(f"portal_code:mh:{mobile}", limit=PER_MOBILE_HOUR, window_seconds=3600, now=now):
        raise DomainError(RATE_LIMITED)
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic(durable=True):
        member = Member.objects.filter(mobile=mobile).first()
        if member is not None and member.status != Member.Status.ACTIVE:
            member = None  # merged/anonymised: behaves as unknown (no registration with a taken mobile)
        row = LoginCode.objects.create(
            mobile=mobile,
            member=member,
            code_hash=_code_hash(mobile, code),
            ip=ip,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        # Older live codes of this mobile stop working: only the newest one counts.
        LoginCode.objects.filter(mobile=mobile, used_at__isnull=True, pk__lt=row.pk).update(used_at=now)
        body = _code_text(code)
        if member is not None:
            _message_enqueue(
                purpose=f"login_code:{row.pk}",
                member=member,
                channel=Message.Channel.SMS,
                kind=Message.Kind.TRANSACTIONAL,
                body=body,
            )
        else:
            transaction.on_commit(lambda: _send_direct(mobile, body, row.pk))
    return row


def _live_code(mobile: str, now) -> LoginCode | None:
    return (
        LoginCode.objects.filter(mobile=mobile, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-pk")
        .first()
    )


def _reserve(code_id: int) -> bool:
    if _UNGUARDED_ATTEMPTS_FOR_TESTS:  # the bug: concurrent guesses all read the old count
        with transaction.atomic():
            current = LoginCode.objects.values_list("attempts", flat=True).get(pk=code_id)
            if current >= MAX_CODE_ATTEMPTS:
                return False
            import time

            time.sleep(0.05)
            LoginCode.objects.filter(pk=code_id).update(attempts=min(current + 1, MAX_CODE_ATTEMPTS))
            return True
    with transaction.atomic():
        return (
            LoginCode.objects.filter(pk=code_id, attempts__lt=MAX_CODE_ATTEMPTS).update(
                attempts=F("attempts") + 1
            )
            == 1
        )


def _give_back(code_id: int) -> None:
    with transaction.atomic():
        LoginCode.objects.filter(pk=code_id, attempts__gt=0).update(attempts=F("attempts") - 1)


def _latest_agreement() -> Agreement | None:
    return Agreement.objects.filter(published_at__isnull=False).order_by("-published_at", "-id").first()


def _session_open(member: Member, *, ip, user_agent: str, now) -> tuple[MemberSession, str]:
    token = secrets.token_urlsafe(32)
    session = MemberSession.objects.create(
        member=member,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + SESSION_TTL,
        ip=ip,
        user_agent=(user_agent or "")[:200],
    )
    audit_write(action="portal.login", obj=session, after={"member": member.pk}, actor=actor_for(member))
    return session, token


def member_login(
    *,
    mobile: str,
    code: str,
    accept_agreement: bool = False,
    referrer: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> tuple[MemberSession, str, bool]:
    """Check the one-time code and open a session: (session, token, registered now?)."""
    from laoke.members.services import member_create

    mobile = _mobile(mobile)
    ip = _clean_ip(ip)
    code = code if isinstance(code, str) else ""
    now = clock.now()
    ip_key = f"portal_verify:ip:{ip}" if ip else None
    if ip_key and ratelimit.is_limited(ip_key, limit=VERIFY_FAILURES_PER_IP_HOUR, window_seconds=3600):
        raise DomainError(RATE_LIMITED)
    row = _live_code(mobile, now)
    if row is None:
        raise DomainError(LOGIN_CODE_INVALID, field="code")
    if not _reserve(row.pk):
        raise DomainError(LOGIN_CODE_EXHAUSTED, field="code")
    if not hmac.compare_digest(_code_hash(mobile, code.strip()), row.code_hash):
        if ip_key:
            ratelimit.hit(ip_key, limit=VERIFY_FAILURES_PER_IP_HOUR, window_seconds=3600)
        left = MAX_CODE_ATTEMPTS - LoginCode.objects.values_list("attempts", flat=True).get(pk=row.pk)
        raise DomainError(LOGIN_CODE_INVALID, field="code", details={"attempts_left": max(left, 0)})
    member = Member.objects.filter(mobile=mobile).first()
    if member is not None and member.status != Member.Status.ACTIVE:
        _give_back(row.pk)
        raise DomainError(PORTAL_MEMBER_INACTIVE)
    registered = False
    if member is None:
        if accept_agreement is not True:
            _give_back(row.pk)  # the code was right: let the member tick the box and send it again
            raise DomainError(LOGIN_AGREEMENT_REQUIRED, field="accept_agreement")
        agreement = _latest_agreement()
        try:
            member = member_create(
                mobile=mobile,
                source=Member.Source.ONLINE,
                consent_source="h5_registration",
                agreement_version=agreement.version if agreement else None,
            )
            registered = True
        except DomainError:
            member = Member.objects.filter(mobile=mobile, status=Member.Status.ACTIVE).first()
            if member is None:
                raise
    with transaction.atomic(durable=True):
        spend = LoginCode.objects.filter(pk=row.pk)
        if not _UNGUARDED_SPEND_FOR_TESTS:
            spend = spend.filter(used_at__isnull=True)
        spent = spend.update(used_at=now, member=member)
        if spent != 1:
            raise DomainError(LOGIN_CODE_INVALID, field="code")
        session, token = _session_open(member, ip=ip, user_agent=user_agent, now=now)
    if registered and referrer:
        _refer(member, referrer)
    return session, token, registered


def _refer(member: Member, referrer: str) -> None:
    """A new member who came by a friend's link (``/m/login/?ref=<member number>``): the referral
    is registered by the referrals service; a bad or refused referrer never blocks the sign-in."""
    from laoke.referrals.services import referral_register

    try:
        referral_register(new_member=member, referrer_ref=referrer[:40], device_id="h5")
    except DomainError as exc:
        log.info("referral on registration refused", extra={"code": exc.code, "member": member.pk})


def session_lookup(token: str | None) -> MemberSession | None:
    """The live session of a token (not revoked, not expired, member active), else None."""
    if not token or len(token) > 200:
        return None
    session = (
        MemberSession.objects.filter(
            token_hash=token_hash(token), revoked_at__isnull=True, expires_at__gt=clock.now()
        )
        .select_related("member")
        .first()
    )
    if session is None or session.member.status != Member.Status.ACTIVE:
        return None
    return session


def member_logout(*, session: MemberSession) -> None:
    now = clock.now()
    with transaction.atomic(durable=True):
        if MemberSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=now):
            audit_write(
                action="portal.logout",
                obj=session,
                after={"member": session.member_id},
                actor=actor_for(session.member),
            )


def portal_tick(now=None) -> int:
    """Drop codes and sessions that ended more than a day ago. Returns rows deleted."""
    now = now or clock.now()
    cutoff = now - timedelta(days=1)
    with transaction.atomic(durable=True):
        codes, _ = LoginCode.objects.filter(expires_at__lt=cutoff).delete()
        sessions, _ = MemberSession.objects.filter(expires_at__lt=cutoff).delete()
    return codes + sessions
