"""The care-content library (关怀/答疑 by category, seeds 000/001) and the call-case library with
two-level categories (seed 002: 案例库下设两个层级). Writes and the searches they serve."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import FIELD_REQUIRED, NOT_FOUND, DomainError
from laoke.core.validation import check_length

from . import error_codes as E
from .models import CallCase, CareArticle, CaseCategory


def _text(field: str, value: Any, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if required and not value:
        raise DomainError(FIELD_REQUIRED, field=field)
    check_length(field, value, limit)
    return value


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [t for t in value.replace("，", ",").split(",")]
    if not isinstance(value, list) or len(value) > 20:
        raise DomainError(E.RULE_INVALID, field="tags", why="tags are a list of ≤ 20 words")
    return [str(t).strip()[:30] for t in value if str(t).strip()]


def care_article_save(
    *,
    category: str,
    title: str,
    body: str,
    tags: Any = None,
    is_active: bool = True,
    article_id: int | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> CareArticle:
    """Create a care article, or change one (``article_id``)."""
    values = {
        "category": _text("category", category, 40),
        "title": _text("title", title, 120),
        "body": _text("body", body, 2000),
        "tags": _tags(tags),
        "is_active": bool(is_active),
    }
    try:
        with transaction.atomic(durable=True):
            if article_id is None:
                article = CareArticle.objects.create(**values, updated_at=clock.now())
                before = None
            else:
                article = CareArticle.objects.select_for_update().filter(pk=article_id).first()
                if article is None:
                    raise DomainError(NOT_FOUND, field="article_id")
                before = {k: getattr(article, k) for k in values}
                for k, v in values.items():
                    setattr(article, k, v)
                article.updated_at = clock.now()
                article.save()
            audit_write(action="service.care.save", obj=article, before=before, after=values, actor=actor)
            idempotency.complete(idem, article)
    except IntegrityError:
        raise DomainError(E.NAME_TAKEN, field="title", name=values["title"]) from None
    return article


def care_articles(*, q: str = "", category: str = "", active_only: bool = False) -> QuerySet[CareArticle]:
    qs = CareArticle.objects.all()
    if category:
        qs = qs.filter(category=category)
    if active_only:
        qs = qs.filter(is_active=True)
    for word in (q or "").split()[:5]:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word) | Q(category__icontains=word))
    return qs.order_by("category", "title")


def care_text(category: str) -> dict[str, str]:
    """The variables a message can carry for a care category — ``care_title`` and ``care_body``
    of its first active article (by title) — or {} when the category has none. For channels'
    template variables (see the decision record: the lead wires it into ``template_contexts``)."""
    article = CareArticle.objects.filter(category=category, is_active=True).order_by("title").first()
    if article is None:
        return {}
    return {"care_title": article.title, "care_body": article.body}


def case_category_create(
    *, name: str, parent_id: int | None = None, actor=None, idem: idempotency.Claim | None = None
) -> CaseCategory:
    name = _text("name", name, 60)
    try:
        with transaction.atomic(durable=True):
            parent = None
            if parent_id is not None:
                parent = CaseCategory.objects.filter(pk=parent_id).first()
                if parent is None:
                    raise DomainError(NOT_FOUND, field="parent_id")
                if parent.parent_id is not None:
                    raise DomainError(E.CATEGORY_DEPTH, field="parent_id", why="the parent is a second level")
            cat = CaseCategory.objects.create(name=name, parent=parent)
            audit_write(action="service.category.create", obj=cat, after={"name": name, "parent": parent_id})
            idempotency.complete(idem, cat)
    except IntegrityError:
        raise DomainError(E.NAME_TAKEN, field="name", name=name) from None
    return cat


def call_case_create(
    *,
    category_id: int,
    question: str,
    answer: str,
    tags: Any = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> CallCase:
    values = {
        "question": _text("question", question, 500),
        "answer": _text("answer", answer, 4000),
        "tags": _tags(tags),
    }
    with transaction.atomic(durable=True):
        category = CaseCategory.objects.filter(pk=category_id).first()
        if category is None:
            raise DomainError(NOT_FOUND, field="category_id")
        if category.parent_id is None:
            raise DomainError(E.CATEGORY_DEPTH, field="category_id", why="a case goes under a second level")
        case = CallCase.objects.create(category=category, created_at=clock.now(), **values)
        audit_write(
            action="service.callcase.create", obj=case, after={**values, "category": category.pk}, actor=actor
        )
        idempotency.complete(idem, case)
    return case


def call_cases(*, q: str = "", category_id: int | None = None) -> QuerySet[CallCase]:
    """Search by words (question, answer, tags) and by a category of either level."""
    qs = CallCase.objects.select_related("category__parent")
    if category_id is not None:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    for word in (q or "").split()[:5]:
        qs = qs.filter(Q(question__icontains=word) | Q(answer__icontains=word) | Q(tags__icontains=word))
    return qs.order_by("-pk")


def category_tree() -> list[dict[str, Any]]:
    cats = list(CaseCategory.objects.order_by("name"))
    tops = [c for c in cats if c.parent_id is None]
    return [
        {
            "id": t.pk,
            "name": t.name,
            "children": [{"id": c.pk, "name": c.name} for c in cats if c.parent_id == t.pk],
        }
        for t in tops
    ]
