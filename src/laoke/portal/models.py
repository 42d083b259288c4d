"""Member sign-in for the H5 pages and apps (docs/decisions/0032-portal.md).

- ``LoginCode``: a one-time 6-digit code sent by SMS; only its keyed hash is stored. It expires
  after ``CODE_TTL`` and allows ``MAX_CODE_ATTEMPTS`` verifications, reserved by a guarded UPDATE
  before the comparison (so concurrent guesses cannot exceed the budget).
- ``MemberSession``: a random token (only its SHA-256 stored), an absolute expiry, revocable. The
  same token is the H5 pages' HttpOnly cookie and an app's ``Authorization: Bearer``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.members.models import Member

MAX_CODE_ATTEMPTS = 5


class LoginCode(models.Model):
    mobile = models.CharField(_("mobile"), max_length=20)
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("member")
    )
    code_hash = models.CharField(_("code hash"), max_length=64)
    attempts = models.PositiveSmallIntegerField(_("verification attempts"), default=0)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("login code")
        verbose_name_plural = _("login codes")
        constraints = [
            models.CheckConstraint(
                condition=Q(attempts__lte=MAX_CODE_ATTEMPTS), name="portal_logincode_attempts_max"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="portal_logincode_ttl"
            ),
        ]
        indexes = [models.Index(fields=["mobile", "-created_at"], name="portal_logincode_mobile_idx")]

    def __str__(self) -> str:
        return f"{self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class MemberSession(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="portal_sessions", verbose_name=_("member")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("member session")
        verbose_name_plural = _("member sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="portal_session_ttl"
            ),
        ]
        indexes = [models.Index(fields=["member", "-created_at"], name="portal_session_member_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} ({self.created_at:%Y-%m-%d %H:%M})"
