"""Console pages of b2b (/admin/console/b2b/, decision 0036): the pipeline board by stage with the
funnel chart (plotly.js from the installed package), an opportunity in full (立项 report, key-node
checklist, stage history, follow-ups, approvals with approve/reject for deciders, the contract's
collection schedule), big customers, charge accounts (签单客户) with their entries, and the
conference survey. Thin over ``laoke.b2b`` services and selectors; the same permissions as the API.
"""

from __future__ import annotations

import secrets
from datetime import date

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.b2b import selectors, services, services_charges
from laoke.b2b.models import ChargeAccount, Contract, Opportunity
from laoke.b2b.presets import CLOSE_REASONS, FOLLOW_UP_METHODS, LEVEL_BY_KEY, STAGE_BY_KEY
from laoke.core import clock, idempotency
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, yuan_to_fen

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VIEW_OPP = "b2b.view_opportunity"
VIEW_CUSTOMER = "b2b.view_bigcustomer"
VIEW_ACCOUNT = "b2b.view_chargeaccount"
VIEW_SURVEY = "b2b.view_surveyresponse"


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _lang(request) -> str:
    return "en" if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en") else "zh-hans"


@permission_required(VIEW_OPP, raise_exception=True)
def index(request):
    funnel = selectors.funnel()
    chart = {
        "labels": [s.name for s in funnel.stages],
        "reached": [s.reached for s in funnel.stages],
        "amount_yuan": [s.reached_amount_fen / 100 for s in funnel.stages],
    }
    user = request.user
    context = _ctx(
        request,
        _("Sales pipeline"),
        board=selectors.board(),
        funnel=funnel,
        chart=chart,
        notices=list(selectors.notices_for(user)[:50]),
        approvals=list(selectors.pending_approvals()[:50]) if user.has_perm("b2b.view_approval") else [],
        overdue=list(selectors.overdue_installments()[:50]) if user.has_perm("b2b.view_installment") else [],
    )
    return TemplateResponse(request, "console/b2b/index.html", context)


@permission_required(VIEW_OPP, raise_exception=True)
def funnel_xlsx(request):
    response = HttpResponse(selectors.funnel_xlsx(selectors.funnel()), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="b2b-funnel.xlsx"'
    return response


@permission_required(VIEW_OPP, raise_exception=True)
def opportunity_detail(request, opp: int):
    opportunity = Opportunity.objects.select_related("customer", "owner").filter(pk=opp).first()
    if opportunity is None:
        return TemplateResponse(
            request, "console/b2b/missing.html", _ctx(request, _("Not found")), status=404
        )
    contract = Contract.objects.filter(opportunity=opportunity).first()
    user = request.user
    stage_approval = STAGE_BY_KEY[opportunity.stage].approval
    context = _ctx(
        request,
        f"{opportunity.number} {opportunity.name}",
        opp=opportunity,
        stage=STAGE_BY_KEY[opportunity.stage],
        checklist=selectors.checklist_of(opportunity),
        history=list(opportunity.stage_changes.select_related("by")),
        follow_ups=list(opportunity.follow_ups.all()[:100]),
        approvals=list(opportunity.approvals.select_related("requested_by", "decided_by")),
        contract=contract,
        installments=list(contract.installments.all()) if contract else [],
        can_change=user.has_perm("b2b.change_opportunity") and opportunity.status == "open",
        can_request=user.has_perm("b2b.add_approval")
        and opportunity.status == "open"
        and bool(stage_approval),
        stage_approval=stage_approval,
        can_follow_up=user.has_perm("b2b.add_followup"),
        methods=FOLLOW_UP_METHODS,
        today=clock.today().isoformat(),
        can_decide=user.has_perm("b2b.approve_bid"),
        can_close=user.has_perm("b2b.close_opportunity") and opportunity.status == "open",
        close_reasons=CLOSE_REASONS,
        report=[
            (_("project name"), opportunity.name),
            (_("project number"), opportunity.number),
            (_("customer lead"), opportunity.customer_lead),
            (_("expected contract amount (yuan)"), f"{opportunity.expected_amount_fen / 100:,.2f}"),
            (
                _("estimated gross margin"),
                "—"
                if opportunity.estimated_margin_bp is None
                else f"{opportunity.estimated_margin_bp / 100:.2f}%",
            ),
            (_("sales expense budget (yuan)"), f"{opportunity.sales_budget_fen / 100:,.2f}"),
            (_("category"), opportunity.category),
            (_("expected signing date"), opportunity.expected_sign_on or "—"),
        ],
    )
    return TemplateResponse(request, "console/b2b/opportunity.html", context)


@require_POST
@permission_required(VIEW_OPP, raise_exception=True)
def opportunity_action(request, opp: int):
    """One form post per action: tick a key node, advance, file a request (立项 / bid price /
    contract with its schedule, one "YYYY-MM-DD amount" line per installment), decide a request,
    record the signing, add a follow-up row, close out."""
    action = request.POST.get("action", "")
    user = request.user
    try:
        if action == "check" and user.has_perm("b2b.change_opportunity"):
            services.opportunity_check(
                opportunity_id=opp,
                stage=request.POST.get("stage", ""),
                item=int(request.POST.get("item", "-1")),
                done=request.POST.get("done", "1") == "1",
                actor=user,
            )
        elif action == "advance" and user.has_perm("b2b.change_opportunity"):
            services.opportunity_advance(opportunity_id=opp, actor=user)
        elif action in ("approve", "reject") and user.has_perm("b2b.approve_bid"):
            services.approval_decide(
                approval_id=int(request.POST.get("approval", "0")),
                approve=action == "approve",
                note=request.POST.get("note", ""),
                actor=user,
            )
        elif action == "request" and user.has_perm("b2b.add_approval"):
            post = request.POST
            amount = yuan_to_fen(post["amount_yuan"]) if post.get("amount_yuan") else None
            margin = round(float(post["margin_pct"]) * 100) if post.get("margin_pct") else None
            schedule = []
            for line in post.get("schedule", "").splitlines():
                if line.strip():
                    due, _sep, yuan = line.strip().partition(" ")
                    schedule.append({"due_on": due.strip(), "amount_fen": yuan_to_fen(yuan.strip())})
            services.approval_request(
                opportunity_id=opp,
                kind=post.get("kind", ""),
                amount_fen=amount,
                margin_bp=margin,
                installments=schedule or None,
                note=post.get("note", ""),
                actor=user,
            )
        elif action == "sign" and user.has_perm("b2b.change_opportunity"):
            services.contract_sign(
                opportunity_id=opp,
                signed_on=date.fromisoformat(request.POST.get("signed_on", "")),
                actor=user,
            )
        elif action == "follow_up" and user.has_perm("b2b.add_followup"):
            post = request.POST
            services.follow_up_add(
                customer_id=Opportunity.objects.values_list("customer_id", flat=True).get(pk=opp),
                opportunity_id=opp,
                on=date.fromisoformat(post.get("on", "")),
                contact_person=post.get("contact_person", ""),
                method=post.get("method", ""),
                content=post.get("content", ""),
                result=post.get("result", ""),
                next_step=post.get("next_step", ""),
                actor=user,
            )
        elif action == "close" and user.has_perm("b2b.close_opportunity"):
            services.opportunity_close(
                opportunity_id=opp,
                outcome=request.POST.get("outcome", ""),
                reason=request.POST.get("reason", ""),
                summary=request.POST.get("summary", ""),
                actor=user,
            )
        else:
            return HttpResponse(status=403)
        messages.success(request, _("Saved."))
    except (DomainError, ValueError, Opportunity.DoesNotExist) as exc:
        messages.error(request, exc.message(_lang(request)) if isinstance(exc, DomainError) else str(exc))
    return redirect(reverse("b2b_opportunity", args=[opp]))


@permission_required(VIEW_CUSTOMER, raise_exception=True)
def customer_list(request):
    rows = list(selectors.customers(level=request.GET.get("level") or None)[:500])
    return TemplateResponse(
        request,
        "console/b2b/customers.html",
        _ctx(request, _("Big customers"), customers=rows, levels=list(LEVEL_BY_KEY.values())),
    )


@permission_required(VIEW_ACCOUNT, raise_exception=True)
def account_list(request):
    return TemplateResponse(
        request,
        "console/b2b/accounts.html",
        _ctx(request, _("Charge accounts"), accounts=list(selectors.charge_accounts()[:1000])),
    )


@permission_required(VIEW_ACCOUNT, raise_exception=True)
def account_detail(request, account: int):
    acc = ChargeAccount.objects.filter(pk=account).first()
    if acc is None:
        return TemplateResponse(
            request, "console/b2b/missing.html", _ctx(request, _("Not found")), status=404
        )
    return TemplateResponse(
        request,
        "console/b2b/account.html",
        _ctx(
            request,
            acc.name,
            account=acc,
            entries=list(acc.entries.select_related("by")[:200]),
            available_fen=acc.credit_limit_fen - acc.outstanding_fen,
            can_charge=request.user.has_perm("b2b.charge_chargeaccount"),
            form_key=secrets.token_hex(12),
        ),
    )


@require_POST
@permission_required("b2b.charge_chargeaccount", raise_exception=True)
def account_entry(request, account: int):
    """签单 or 结账 from the front desk. The form carries a one-time key, so a double click or a
    resubmitted page records the entry once (the same idempotency records as the API)."""
    kind = request.POST.get("kind", "")
    try:
        amount_fen = yuan_to_fen(request.POST.get("amount_yuan", "0"))
    except MoneyFormatError:
        amount_fen = 0
    payload = {
        "account": account,
        "kind": kind,
        "amount_fen": amount_fen,
        "signer": request.POST.get("signer", ""),
        "reference": request.POST.get("reference", ""),
    }
    back = redirect(reverse("b2b_account", args=[account]))
    if kind not in ("charge", "settlement"):
        return HttpResponse(status=400)
    try:
        claim = idempotency.claim(
            scope=f"b2b.console.entry@{request.user.pk}", key=request.POST.get("key", ""), payload=payload
        )
    except DomainError as exc:
        messages.error(request, exc.message(_lang(request)))
        return back
    if claim.replay is not None:
        messages.info(request, _("Already recorded."))
        return back
    claim.render = lambda entry: (201, {"id": entry.pk})
    try:
        if kind == "charge":
            services_charges.charge_record(
                account_id=account,
                amount_fen=amount_fen,
                signer=payload["signer"],
                reference=payload["reference"],
                actor=request.user,
                idem=claim,
            )
        else:
            services_charges.charge_settle(
                account_id=account,
                amount_fen=amount_fen,
                reference=payload["reference"],
                actor=request.user,
                idem=claim,
            )
    except DomainError as exc:
        idempotency.release(claim)
        messages.error(request, exc.message(_lang(request)))
        return back
    messages.success(request, _("Saved."))
    return back


@permission_required(VIEW_SURVEY, raise_exception=True)
def surveys(request):
    template = services_charges.survey_template_ensure()
    responses = list(template.responses.all()[:200])
    scales = [q for q in template.questions if q["type"] == "scale"]
    averages = []
    for q in scales:
        values = [r.answers[q["key"]] for r in responses if isinstance(r.answers.get(q["key"]), int)]
        averages.append((q["text"], round(sum(values) / len(values), 2) if values else None, len(values)))
    return TemplateResponse(
        request,
        "console/b2b/surveys.html",
        _ctx(request, template.name, template=template, responses=responses, averages=averages),
    )
