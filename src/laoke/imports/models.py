"""Import and export jobs (SPEC 15, docs/decisions/0029-imports.md).

An ``ImportJob`` is one uploaded file (a Taobao order report, optionally with its item report, or
a generic members / orders / products / coupons file) going through upload → check (the dry run:
every row validated, nothing written) → apply (bulk inserts in chunks tagged with ``job_id``, then
statistics and tiers rebuilt for the members touched). Progress is on the row so the console and
the CLI can show it; the first problems found are kept for the per-row error report.

An ``ExportJob`` writes a list (segment members, campaign contacts, courier lists, reports, the
audit log…) to an xlsx or CSV file in the background, streaming rows, then serves it for download.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ImportKind(models.TextChoices):
    TAOBAO = "taobao", _("Taobao/Tmall order report")
    MEMBERS = "members", _("Members")
    ORDERS = "orders", _("Orders")
    PRODUCTS = "products", _("Products")
    COUPONS = "coupons", _("Coupon codes")


class ImportMapping(models.Model):
    """A saved column mapping: which column of the shop's file holds which Laoke field."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    name = models.CharField(_("name"), max_length=60)
    columns = models.JSONField(_("columns"), default=dict)  # Laoke field → the file's header
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="importmapping_kind_name_uniq")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class ImportJob(models.Model):
    class State(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        CHECKING = "checking", _("checking")
        CHECKED = "checked", _("checked")
        APPLYING = "applying", _("importing")
        DONE = "done", pgettext_lazy("job", "done")
        FAILED = "failed", pgettext_lazy("job", "failed")

    class Mode(models.TextChoices):
        ALL = "all", _("all or nothing")
        VALID = "valid", _("import the valid rows")

    job_id = models.CharField(_("job id"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.UPLOADED)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.ALL)
    file_name = models.CharField(_("file"), max_length=200)
    file_path = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    items_file_name = models.CharField(_("item report"), max_length=200, blank=True)
    items_file_path = models.CharField(max_length=300, blank=True)
    mapping = models.JSONField(_("columns"), default=dict, blank=True)
    # award_points, notify (welcome messages to members the import registers), template_id (coupons)
    options = models.JSONField(_("options"), default=dict, blank=True)
    stage = models.CharField(_("stage"), max_length=24, blank=True)
    done_units = models.PositiveBigIntegerField(default=0)
    total_units = models.PositiveBigIntegerField(default=0)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    error_count = models.PositiveIntegerField(_("problems"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True)  # the first ERRORS_KEPT
    plan = models.JSONField(_("what the import would do"), default=dict, blank=True)
    result = models.JSONField(_("what the import did"), default=dict, blank=True)
    failure = models.TextField(_("failure"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    ERRORS_KEPT = 10_000

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_units__lte=models.F("total_units")) | Q(total_units=0),
                name="importjob_progress_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} {self.file_name}"


class ExportJob(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", pgettext_lazy("job", "done")
        FAILED = "failed", pgettext_lazy("job", "failed")

    class Format(models.TextChoices):
        XLSX = "xlsx", "xlsx"
        CSV = "csv", "CSV"

    job_id = models.CharField(_("job id"), max_length=40, unique=True)
    kind = models.CharField(_("list"), max_length=40)
    params = models.JSONField(_("selection"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.XLSX)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    file_path = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    failure = models.TextField(_("failure"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.job_id} {self.kind}"
