"""Cases: the handling presets by level, assignment by member type (least open, store-aware, the
group's own manager), the contact log and outcome, escalation along the chain with the clock,
and reviews — the COD default review included — feeding the same list exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.channels.models import StaffTask
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.core.services import store_create
from laoke.members.accounts import group_account_create
from laoke.orders.services import order_review, reviews_tick
from laoke.service.models import ServiceCase
from laoke.service.services import (
    case_contact,
    case_escalate,
    case_file,
    case_resolve,
    cases_from_reviews,
    service_tick,
)

from .conftest import T0

pytestmark = pytest.mark.django_db

# seed 003: 褒奖/一般 → 网络文字互动, 不满 → 电话沟通, 批评 → 现场回访; due hours are our presets
PRESETS = {
    "praise": ("text", 72),
    "neutral": ("text", 48),
    "dissatisfied": ("phone", 24),
    "criticism": ("visit", 48),
}


@pytest.mark.parametrize("level", list(PRESETS))
def test_handling_preset_by_level(desk, level):
    member = desk.customer()
    case = case_file(member_id=member.pk, level=level, text="评价内容", source="phone", actor=desk.agent)
    method, hours = PRESETS[level]
    assert (case.method, case.state, case.assignee_id) == (method, "open", desk.agent.pk)
    assert case.due_at == T0 + timedelta(hours=hours)
    tasks = StaffTask.objects.filter(member=member, purpose=f"service:case:{case.pk}:0")
    if method == "text":
        assert not tasks.exists()
    else:  # the call / visit list of the owner carries it
        task = tasks.get()
        assert (task.kind, task.assignee_id) == ({"phone": "call", "visit": "visit"}[method], desk.agent.pk)
    assert AuditEntry.objects.filter(action="service.case.file", object_id=str(case.pk)).exists()


def test_individuals_go_to_agents_least_open_first_groups_to_managers(desk):
    second = desk.staff("service_agent")
    owners = [case_file(member_id=desk.customer().pk, level="dissatisfied").assignee_id for _ in range(4)]
    assert owners == [desk.agent.pk, second.pk, desk.agent.pk, second.pk]
    group = group_account_create(name="某某公司")
    gm = desk.customer(group_account=group)
    assert case_file(member_id=gm.pk, level="neutral").assignee_id == desk.manager.pk
    # a group with its own 客服经理 goes to that one
    own = desk.staff("service_manager")
    mine = group_account_create(name="另一公司", manager=own)
    assert case_file(member_id=desk.customer(group_account=mine).pk, level="criticism").assignee_id == own.pk


def test_assignment_prefers_staff_of_the_members_store(desk):
    store = store_create(code="S1", name="一店")
    local = desk.staff("service_agent", store=store)
    for _ in range(3):  # the local agent is busier, yet still preferred for the store's members
        case_file(member_id=desk.customer(home_store=store).pk, level="neutral")
    assert set(ServiceCase.objects.values_list("assignee_id", flat=True)) == {local.pk}
    assert case_file(member_id=desk.customer().pk, level="neutral").assignee_id == desk.agent.pk


def test_escalation_goes_to_the_branch_head_of_the_members_branch(desk):
    branch = store_create(code="B1", name="一分公司", kind="branch")
    shop = store_create(code="B1S1", name="一分公司一店", parent=branch)
    head = desk.staff("sales_manager", store=branch)
    case = case_file(member_id=desk.customer(home_store=shop).pk, level="dissatisfied")
    with clock.frozen(T0 + timedelta(hours=25)):
        service_tick(clock.now())
    case.refresh_from_db()
    assert (case.escalation_level, case.assignee_id) == (1, head.pk)  # not desk.branch (no store)


def test_contact_log_and_outcome(desk):
    member = desk.customer()
    case = case_file(member_id=member.pk, level="dissatisfied", text="衣服起球")
    case_contact(case_id=case.pk, outcome="no_answer", actor=desk.agent)
    case.refresh_from_db()
    assert case.state == "in_progress"
    case_contact(case_id=case.pk, outcome="reached", note="同意换货", actor=desk.agent)
    done = case_resolve(case_id=case.pk, outcome="已换新，会员满意", actor=desk.agent)
    assert (done.state, done.outcome, done.resolved_at) == ("resolved", "已换新，会员满意", T0)
    assert list(done.contacts.values_list("outcome", "method")) == [
        ("no_answer", "phone"),
        ("reached", "phone"),
    ]
    with pytest.raises(DomainError) as exc:
        case_contact(case_id=case.pk, outcome="reached")
    assert exc.value.code == "SERVICE_CASE_STATE"
    with pytest.raises(DomainError) as exc:
        case_resolve(case_id=case.pk, outcome=" ")
    assert exc.value.code == "SERVICE_CASE_OUTCOME_REQUIRED"


def test_overdue_cases_climb_the_chain_with_the_clock(desk):
    """seed 003: staff → branch head → marketing department → leadership."""
    member = desk.customer()
    case = case_file(member_id=member.pk, level="dissatisfied", text="投诉送货慢")
    assert case.due_at == T0 + timedelta(hours=24)
    with clock.frozen(T0 + timedelta(hours=23)):
        assert service_tick(clock.now())["escalated"] == 0
    owners = []
    at = T0
    for hours, owner, level in ((24, desk.branch, 1), (24, desk.marketer, 2), (24, desk.gm, 3)):
        at = at + timedelta(hours=hours)
        with clock.frozen(at):
            assert service_tick(clock.now())["escalated"] == 1
        case.refresh_from_db()
        owners.append(case.assignee_id)
        assert (case.escalation_level, case.assignee_id) == (level, owner.pk)
        task = StaffTask.objects.get(purpose=f"service:case:{case.pk}:{level}")
        assert (task.assignee_id, task.kind) == (owner.pk, "call")  # the new owner is told
    assert case.due_at == at + timedelta(hours=48)  # leadership's hours
    with clock.frozen(at + timedelta(days=10)):
        assert service_tick(clock.now())["escalated"] == 0  # the top of the chain
    assert AuditEntry.objects.filter(action="service.case.escalate", object_id=str(case.pk)).count() == 3
    with pytest.raises(DomainError) as exc:
        case_escalate(case_id=case.pk)
    assert exc.value.code == "SERVICE_CASE_TOP_LEVEL"


def test_resolved_cases_do_not_escalate(desk):
    case = case_file(member_id=desk.customer().pk, level="criticism")
    case_resolve(case_id=case.pk, outcome="上门致歉", actor=desk.agent)
    with clock.frozen(T0 + timedelta(days=5)):
        assert service_tick(clock.now())["escalated"] == 0


def test_reviews_feed_the_list_once_cod_default_included(desk):
    member = desk.customer()
    cod = desk.buy(member, T0, cod=True)
    paid = desk.buy(member, T0)
    order_review(order_id=paid.pk, level="dissatisfied", text="尺码偏小", now=T0)
    later = T0 + timedelta(days=8)  # past the COD default-review hours
    with clock.frozen(later):
        assert reviews_tick(later) == 1
        assert service_tick(later)["from_reviews"] == 2
        assert cases_from_reviews() == 0  # idempotent: one case per review
    default = ServiceCase.objects.get(order=cod)
    assert (default.source, default.level, default.state, default.assignee_id) == (
        "default_review",
        "praise",
        "closed",
        None,
    )
    complaint = ServiceCase.objects.get(order=paid)
    assert (complaint.source, complaint.level, complaint.method, complaint.state) == (
        "review",
        "dissatisfied",
        "phone",
        "open",
    )
    assert complaint.text == "尺码偏小" and complaint.assignee_id == desk.agent.pk


def test_file_refuses_bad_input(desk):
    member = desk.customer()
    for kwargs, code in (
        ({"level": "angry"}, "SERVICE_CASE_LEVEL"),
        ({"level": "neutral", "source": "review"}, "SERVICE_CASE_SOURCE"),
    ):
        with pytest.raises(DomainError) as exc:
            case_file(member_id=member.pk, **kwargs)
        assert exc.value.code == code
    other = desk.buy(desk.customer(), T0)
    with pytest.raises(DomainError) as exc:
        case_file(member_id=member.pk, level="neutral", order_id=other.pk)
    assert exc.value.code == "SERVICE_CASE_ORDER_MEMBER"
