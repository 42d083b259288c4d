"""Segment rules: validation (a clear error naming the JSON path of the bad node) and compilation
to one ``Q`` over ``members.Member``.

A rule is JSON data::

    {"all": [node, …]}  {"any": [node, …]}  {"not": node}
    {"field": "orders.spend", "op": "gte", "value": 29900}

The root may also carry ``"include_non_personalised": true``: only then are members who opted
out of personalised marketing (PIPL art. 24, ``Member.exclude_personalised``) counted — for a
non-personalised audience. Merged and anonymised members are never in a segment.

Paths: the root is ``rule``; its children ``all[0]``, ``all[0].not``, ``any[1].value`` …
"""

from __future__ import annotations

import functools
import operator
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date

from laoke.core.errors import DomainError
from laoke.members.models import Member

from . import error_codes as E
from .fields import (
    LIST_TYPES,
    MAX_LIST,
    NUMBER_TYPES,
    TIME_TYPES,
    Ctx,
    FieldSpec,
    instant,
    is_number,
    resolve,
)

MAX_DEPTH = 8
GROUPS = ("all", "any", "not")
ROOT_OPTIONS = ("include_non_personalised",)

_EXPECT = {
    "bool": ("true 或 false", "true or false"),
    "number": ("数字", "a number"),
    "int": ("整数", "a whole number"),
    "range": ("[最小值, 最大值] 两个数且最小值 ≤ 最大值", "[min, max], two numbers with min ≤ max"),
    "list": ("非空列表", "a non-empty list"),
    "time": ("日期 YYYY-MM-DD 或带时区的时间", "a date YYYY-MM-DD or an ISO date-time"),
    "date": ("日期 YYYY-MM-DD", "a date YYYY-MM-DD"),
    "window": ("[开始日期, 结束日期] 且开始不晚于结束", "[from, to] with from not after to"),
    "days": ("0–36500 之间的天数", "a number of days 0–36500"),
    "text": ("文本", "a text"),
    "choice": ("可选值之一：{choices}", "one of: {choices}"),
    "names": ("非空的名称列表", "a non-empty list of names"),
}

_REASONS = {
    "object": ("节点必须是对象", "a node must be an object"),
    "shape": (
        "节点须恰好包含 all、any、not 之一，或 field/op/value",
        "a node needs exactly one of all, any, not — or field, op and value",
    ),
    "list": ("all/any 的值必须是列表", "all/any must be a list"),
    "option": (
        "include_non_personalised 只能在根节点且为 true/false",
        "include_non_personalised is allowed at the root only, as true or false",
    ),
}


def _err_value(path: str, what: str, *, choices: str = "", detail: str = "") -> DomainError:
    zh, en = _EXPECT.get(what, (what, what))
    zh, en = zh.format(choices=choices), en.format(choices=choices)
    if detail:
        zh, en = f"{zh}（{detail}）", f"{en} ({detail})"
    return DomainError(
        E.SEGMENT_VALUE_INVALID, field=path, details={"path": path}, path=path, expected=en, expected_zh=zh
    )


def _err_shape(path: str, why: str) -> DomainError:
    zh, en = _REASONS[why]
    return DomainError(
        E.SEGMENT_RULE_INVALID, field=path, details={"path": path}, path=path, reason_zh=zh, reason_en=en
    )


def _join(path: str, key: str) -> str:
    return key if path == "rule" else f"{path}.{key}"


# --- validation ----------------------------------------------------------------------------------


def validate(rule: Any) -> None:
    """Raise a DomainError (SEGMENT_*) naming the first bad node; return None for a good rule."""
    _node(rule, "rule", 1)


def _node(node: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise DomainError(
            E.SEGMENT_RULE_TOO_DEEP, field=path, details={"path": path}, path=path, max=MAX_DEPTH
        )
    if not isinstance(node, dict):
        raise _err_shape(path, "object")
    keys = set(node)
    if "include_non_personalised" in keys:
        if path != "rule" or not isinstance(node["include_non_personalised"], bool):
            raise _err_shape(_join(path, "include_non_personalised"), "option")
        keys.discard("include_non_personalised")
    groups = keys & set(GROUPS)
    if groups:
        if len(keys) != 1:
            raise _err_shape(path, "shape")
        (kind,) = groups
        child_path = _join(path, kind)
        if kind == "not":
            _node(node["not"], child_path, depth + 1)
            return
        children = node[kind]
        if not isinstance(children, list):
            raise _err_shape(child_path, "list")
        if not children:
            raise DomainError(
                E.SEGMENT_GROUP_EMPTY, field=child_path, details={"path": child_path}, path=child_path
            )
        for i, child in enumerate(children):
            _node(child, f"{child_path}[{i}]", depth + 1)
        return
    if keys != {"field", "op", "value"}:
        raise _err_shape(path, "shape")
    _leaf(node, path)


def _leaf(node: dict, path: str) -> FieldSpec:
    name, op, value = node["field"], node["op"], node["value"]
    spec = resolve(name)
    if spec is None:
        p = _join(path, "field")
        raise DomainError(E.SEGMENT_FIELD_UNKNOWN, field=p, details={"path": p}, path=p, name=str(name)[:80])
    if op not in spec.ops:
        p = _join(path, "op")
        raise DomainError(
            E.SEGMENT_OP_INVALID,
            field=p,
            details={"path": p, "allowed": list(spec.ops)},
            path=p,
            name=spec.key,
            op=str(op)[:40],
            allowed=", ".join(spec.ops),
        )
    _value(spec, op, value, _join(path, "value"))
    return spec


def _value(spec: FieldSpec, op: str, value: Any, path: str) -> None:
    t = spec.type
    if op in ("is_null", "is_empty"):
        if not isinstance(value, bool):
            raise _err_value(path, "bool")
        return
    if t in NUMBER_TYPES:
        kind = "number" if t in ("float", "ratio") else "int"

        def num(v: Any) -> None:
            if not is_number(v, t):
                raise _err_value(path, kind)
            if (spec.minimum is not None and v < spec.minimum) or (
                spec.maximum is not None and v > spec.maximum
            ):
                raise _err_value(
                    path,
                    kind,
                    detail=f"{spec.minimum if spec.minimum is not None else ''}–"
                    f"{spec.maximum if spec.maximum is not None else ''}",
                )

        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise _err_value(path, "range")
            num(value[0])
            num(value[1])
            if value[0] > value[1]:
                raise _err_value(path, "range")
        elif op in ("in", "not_in"):
            if not isinstance(value, list) or not value or len(value) > MAX_LIST:
                raise _err_value(path, "list")
            for v in value:
                num(v)
        else:
            num(value)
    elif t in TIME_TYPES:
        parse = (lambda v: parse_date(v) if isinstance(v, str) else None) if t == "date" else instant
        what = "date" if t == "date" else "time"

        def ok(v: Any) -> Any:
            try:
                got = parse(v)
            except ValueError:
                got = None
            if got is None:
                raise _err_value(path, what)
            return got

        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise _err_value(path, "window")
            a, b = ok(value[0]), ok(value[1])
            if (isinstance(a, datetime) and instant(value[1], end=True) <= a) or (
                not isinstance(a, datetime) and a > b
            ):
                raise _err_value(path, "window")
        elif op in ("within_days", "not_within_days"):
            if not is_number(value, "int") or not 0 <= value <= 36_500:
                raise _err_value(path, "days")
        else:
            ok(value)
    elif t == "bool":
        if not isinstance(value, bool):
            raise _err_value(path, "bool")
    elif t in ("choice", "text"):
        values = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value or len(value) > MAX_LIST):
            raise _err_value(path, "list")
        for v in values:
            if not isinstance(v, str) or len(v) > 500 or (op == "contains" and not v):
                raise _err_value(path, "text")
        if spec.strict_choices and spec.choices is not None:
            allowed = [c for c, _label in spec.choices()]
            if any(v not in allowed for v in values):
                raise _err_value(path, "choice", choices=", ".join(repr(c) for c in allowed))
    elif t in LIST_TYPES:
        if (
            not isinstance(value, list)
            or not value
            or len(value) > MAX_LIST
            or not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value)
        ):
            raise _err_value(path, "names")
    if spec.check is not None:
        problem = spec.check(op, value)
        if problem:
            raise _err_value(path, problem)


# --- compilation ---------------------------------------------------------------------------------


def compile_rule(rule: dict, *, now: datetime) -> Q:
    """The ``Q`` of a rule (validated first)."""
    validate(rule)
    return _compile(rule, Ctx(now=now))


def _compile(node: dict, ctx: Ctx) -> Q:
    if "all" in node:
        return functools.reduce(operator.and_, (_compile(c, ctx) for c in node["all"]))
    if "any" in node:
        return functools.reduce(operator.or_, (_compile(c, ctx) for c in node["any"]))
    if "not" in node:
        return ~_compile(node["not"], ctx)
    spec = resolve(node["field"])
    return spec.compile(node["op"], node["value"], ctx)


def eligible_members(rule: dict) -> QuerySet[Member]:
    """Who may be in any segment: active members (never merged or anonymised) and, unless the
    rule opts in for a non-personalised audience, not those excluded from personalisation."""
    qs = Member.objects.filter(status=Member.Status.ACTIVE)
    if not (isinstance(rule, dict) and rule.get("include_non_personalised") is True):
        qs = qs.filter(exclude_personalised=False)
    return qs


def rule_queryset(rule: dict, *, now: datetime) -> QuerySet[Member]:
    q = compile_rule(rule, now=now)
    return eligible_members(rule).filter(q)
