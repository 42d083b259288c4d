"""Shared set-up for the holidays tests (through the real services)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Group

from laoke.holidays import services

HIGH, NORMAL = 16_800, 8_800  # 168元 / 88元 (the seed writes "XX元")


def campaign(year: int = 2004, actor=None):
    return services.gift_campaign_preset_create(
        year=year, level_prices_fen={"high": HIGH, "normal": NORMAL}, actor=actor
    )


def form(**over) -> dict:
    data = {
        "recipient_type": "key_prospect",
        "name": "张三",
        "company": "广州某机械厂",
        "address": "广东省广州市天河区体育西路 1 号",
        "phone": "13800138000",
        "decision_power": True,
        "level": "high",
    }
    data.update(over)
    return data


def add_role(user, role: str):
    user.groups.add(Group.objects.get(name=role))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


def walkin(day: date = date(2004, 9, 20), **over) -> dict:
    return form(recipient_type="walk_in", level="normal", visited_on=day, **over)
