"""Segments (客户分群): a named rule tree, dynamic (evaluated when read) or snapshot (frozen member
lists, kept for audit). See rules.py for the rule format and docs/decisions/0022-segments.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.members.models import Member


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic (evaluated when used)")
        SNAPSHOT = "snapshot", _("Snapshot (frozen member list)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    rule = models.JSONField(_("rule"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    preset = models.CharField(_("preset"), max_length=40, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        permissions = [
            ("preview_segment", _("Preview segment counts and sample members")),
            ("export_segment", _("Export a segment's members (masked) to xlsx")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["dynamic", "snapshot"]), name="segment_kind_valid")
        ]

    def __str__(self) -> str:
        return self.name


class SegmentSnapshot(models.Model):
    """A frozen member list. Written in chunks (≤ 2,000 members, one short transaction each,
    tagged with ``job_id``); ``state`` is ``building`` until the last chunk is in. A snapshot taken
    with a ``key`` (e.g. ``campaign:17``) exists once: the same key returns it, a ``building`` one
    left by a crash is resumed."""

    class State(models.TextChoices):
        BUILDING = "building", _("Building")
        COMPLETE = "complete", _("Complete")

    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, related_name="snapshots", verbose_name=_("segment")
    )
    key = models.CharField(_("key"), max_length=120, null=True, blank=True, unique=True)
    job_id = models.CharField(_("job id"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.BUILDING)
    rule = models.JSONField(_("rule at snapshot time"))
    evaluated_at = models.DateTimeField(_("evaluated as of"))
    taken_at = models.DateTimeField(_("taken at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    member_count = models.IntegerField(_("members"), default=0)
    last_member_id = models.BigIntegerField(_("last member written"), default=0)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("taken by"),
    )

    class Meta:
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["building", "complete"]), name="snapshot_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="building", completed_at__isnull=True)
                | Q(state="complete", completed_at__isnull=False),
                name="snapshot_complete_has_time",
            ),
            models.CheckConstraint(condition=Q(member_count__gte=0), name="snapshot_count_non_negative"),
        ]
        indexes = [models.Index(fields=["segment", "-id"], name="snapshot_segment_idx")]

    def __str__(self) -> str:
        return f"{self.segment} @ {self.taken_at:%Y-%m-%d %H:%M}"


class SnapshotMember(models.Model):
    """One member of a snapshot (kept for audit: members are PROTECTed while listed here)."""

    snapshot = models.ForeignKey(
        SegmentSnapshot, on_delete=models.PROTECT, related_name="members", verbose_name=_("snapshot")
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))

    class Meta:
        verbose_name = _("snapshot member")
        verbose_name_plural = _("snapshot members")
        constraints = [models.UniqueConstraint(fields=["snapshot", "member"], name="snapshotmember_uniq")]
