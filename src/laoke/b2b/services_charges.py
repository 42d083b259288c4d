"""Hotel charge-account customers (签单客户, seed 000) and the conference-event survey (会务活动调查表).

A charge (签单) raises what the customer owes, a settlement (结账) lowers it; both are immutable
``ChargeEntry`` rows with an audit row each. The credit limit holds twice: the guarded UPDATE
(``outstanding + x <= limit``, checked by its row count) refuses a charge without locking first,
and the table's CHECK (0 ≤ outstanding ≤ limit) makes the database itself refuse anything else.
``_UNGUARDED_FOR_TESTS`` swaps the guarded UPDATE for a read-check-write, the negative control of
tests/b2b/test_race_pg.py (with ``_UNGUARDED_PAUSE`` to widen the window).
"""

from __future__ import annotations

import time
from datetime import date

from django.db import transaction
from django.db.models import F

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError

from . import error_codes as E
from .models import BigCustomer, ChargeAccount, ChargeEntry, SurveyResponse, SurveyTemplate
from .presets import SURVEY_NAME, SURVEY_QUESTIONS
from .services import _amount, _get, _refs, _text

_UNGUARDED_FOR_TESTS = False
_UNGUARDED_PAUSE = 0.0
MAX_SIGNERS = 50


def _signers(signers: list[str] | None) -> list[str]:
    out = []
    for s in signers or []:
        s = _text("signers", s, 60, required=True)
        if s not in out:
            out.append(s)
    if len(out) > MAX_SIGNERS:
        raise DomainError(E.B2B_FIELD_INVALID, field="signers")
    return out


def charge_account_create(
    *,
    name: str,
    credit_limit_fen: int,
    signers: list[str] | None = None,
    group_account_id: int | None = None,
    member_id: int | None = None,
    discount_bp: int = 0,
    actor=None,
) -> ChargeAccount:
    if isinstance(discount_bp, bool) or not isinstance(discount_bp, int) or not 0 <= discount_bp <= 10000:
        raise DomainError(E.B2B_FIELD_INVALID, field="discount_bp")
    with transaction.atomic(durable=True):
        _refs(group_account_id=group_account_id, member_id=member_id)
        account = ChargeAccount.objects.create(
            name=_text("name", name, 120, required=True),
            credit_limit_fen=_amount("credit_limit_fen", credit_limit_fen),
            signers=_signers(signers),
            group_account_id=group_account_id,
            member_id=member_id,
            discount_bp=discount_bp,
            created_at=clock.now(),
        )
        audit_write(
            action="b2b.charge_account.create",
            obj=account,
            after={"name": account.name, "credit_limit_fen": account.credit_limit_fen},
            actor=actor,
        )
    return account


def charge_account_update(
    *,
    account_id: int,
    credit_limit_fen: int | None = None,
    signers: list[str] | None = None,
    is_active: bool | None = None,
    actor=None,
) -> ChargeAccount:
    with transaction.atomic(durable=True):
        account = _get(ChargeAccount, account_id, "charge account", lock=True)
        before = {
            "credit_limit_fen": account.credit_limit_fen,
            "signers": account.signers,
            "active": account.is_active,
        }
        if credit_limit_fen is not None:
            limit = _amount("credit_limit_fen", credit_limit_fen)
            # Guarded, so a charge committing meanwhile cannot leave the limit below the debt.
            if not ChargeAccount.objects.filter(pk=account.pk, outstanding_fen__lte=limit).update(
                credit_limit_fen=limit
            ):
                account.refresh_from_db()
                raise DomainError(E.B2B_LIMIT_BELOW_OUTSTANDING, outstanding=account.outstanding_fen)
        if signers is not None:
            ChargeAccount.objects.filter(pk=account.pk).update(signers=_signers(signers))
        if is_active is not None:
            ChargeAccount.objects.filter(pk=account.pk).update(is_active=bool(is_active))
        account.refresh_from_db()
        audit_write(
            action="b2b.charge_account.update",
            obj=account,
            before=before,
            after={
                "credit_limit_fen": account.credit_limit_fen,
                "signers": account.signers,
                "active": account.is_active,
            },
            actor=actor,
        )
    return account


def _apply_charge(account_id: int, amount_fen: int) -> int:
    """Raise the debt by ``amount_fen`` if it stays within the limit; returns the rows updated."""
    if _UNGUARDED_FOR_TESTS:  # the negative control: read, check, write back (lost updates)
        row = ChargeAccount.objects.get(pk=account_id)
        if row.outstanding_fen + amount_fen > row.credit_limit_fen:
            return 0
        time.sleep(_UNGUARDED_PAUSE)
        return ChargeAccount.objects.filter(pk=account_id).update(
            outstanding_fen=row.outstanding_fen + amount_fen
        )
    return ChargeAccount.objects.filter(
        pk=account_id, is_active=True, outstanding_fen__lte=F("credit_limit_fen") - amount_fen
    ).update(outstanding_fen=F("outstanding_fen") + amount_fen)


def charge_record(
    *, account_id: int, amount_fen: int, signer: str = "", reference: str = "", actor=None, idem=None
) -> ChargeEntry:
    """签单: the customer signs a bill instead of paying. Refused beyond the credit limit."""
    amount_fen = _amount("amount_fen", amount_fen, positive=True)
    signer = _text("signer", signer, 60)
    reference = _text("reference", reference, 100)
    with transaction.atomic(durable=True):
        account = _get(ChargeAccount, account_id, "charge account")
        if not account.is_active:
            raise DomainError(E.B2B_ACCOUNT_INACTIVE)
        if account.signers and signer not in account.signers:
            raise DomainError(E.B2B_SIGNER_NOT_ALLOWED, field="signer", signer=signer or "-")
        if not _apply_charge(account.pk, amount_fen):
            account.refresh_from_db()
            raise DomainError(
                E.B2B_CREDIT_LIMIT, limit=account.credit_limit_fen, outstanding=account.outstanding_fen
            )
        after = ChargeAccount.objects.values_list("outstanding_fen", flat=True).get(pk=account.pk)
        entry = ChargeEntry.objects.create(
            account=account,
            kind=ChargeEntry.Kind.CHARGE,
            amount_fen=amount_fen,
            outstanding_after=after,
            signer=signer,
            reference=reference,
            at=clock.now(),
            by=actor if getattr(actor, "pk", None) else None,
        )
        audit_write(
            action="b2b.charge",
            obj=account,
            before={"outstanding_fen": after - amount_fen},  # the guarded UPDATE holds the row
            after={"amount_fen": amount_fen, "outstanding_fen": after},
            actor=actor,
        )
        idempotency.complete(idem, entry)
    return entry


def charge_settle(
    *, account_id: int, amount_fen: int, reference: str = "", actor=None, idem=None
) -> ChargeEntry:
    """结账: the customer pays (part of) what they owe."""
    amount_fen = _amount("amount_fen", amount_fen, positive=True)
    reference = _text("reference", reference, 100)
    with transaction.atomic(durable=True):
        account = _get(ChargeAccount, account_id, "charge account")
        done = ChargeAccount.objects.filter(pk=account.pk, outstanding_fen__gte=amount_fen).update(
            outstanding_fen=F("outstanding_fen") - amount_fen
        )
        if not done:
            account.refresh_from_db()
            raise DomainError(E.B2B_SETTLE_TOO_MUCH, outstanding=account.outstanding_fen)
        after = ChargeAccount.objects.values_list("outstanding_fen", flat=True).get(pk=account.pk)
        entry = ChargeEntry.objects.create(
            account=account,
            kind=ChargeEntry.Kind.SETTLEMENT,
            amount_fen=amount_fen,
            outstanding_after=after,
            reference=reference,
            at=clock.now(),
            by=actor if getattr(actor, "pk", None) else None,
        )
        audit_write(
            action="b2b.settle",
            obj=account,
            before={"outstanding_fen": after + amount_fen},  # the guarded UPDATE holds the row
            after={"amount_fen": amount_fen, "outstanding_fen": after},
            actor=actor,
        )
        idempotency.complete(idem, entry)
    return entry


# --- the conference-event survey ----------------------------------------------------------------


def survey_template_ensure() -> SurveyTemplate:
    """The seed's 会务活动调查表, created once (the preset questions of ``presets.SURVEY_QUESTIONS``)."""
    with transaction.atomic(durable=True):
        template, _created = SurveyTemplate.objects.get_or_create(
            name=SURVEY_NAME, defaults={"questions": list(SURVEY_QUESTIONS), "created_at": clock.now()}
        )
    return template


def _answers(questions: list[dict], answers: dict) -> dict:
    known = {q["key"]: q for q in questions}
    if not isinstance(answers, dict) or set(answers) - set(known):
        raise DomainError(
            E.B2B_SURVEY_ANSWER_INVALID,
            field="answers",
            question=sorted(set(answers or {}) - set(known) or ["?"])[0],
        )
    out = {}
    for key, value in answers.items():
        q = known[key]
        ok = (
            (
                q["type"] == "scale"
                and isinstance(value, int)
                and not isinstance(value, bool)
                and q["min"] <= value <= q["max"]
            )
            or (q["type"] == "choice" and value in q["choices"])
            or (q["type"] == "text" and isinstance(value, str) and len(value) <= 1000)
        )
        if not ok:
            raise DomainError(E.B2B_SURVEY_ANSWER_INVALID, field=f"answers.{key}", question=q["text"])
        out[key] = value.strip() if isinstance(value, str) else value
    return out


def survey_response_add(
    *,
    template_id: int,
    event_name: str,
    event_on: date,
    answers: dict,
    customer_id: int | None = None,
    charge_account_id: int | None = None,
    respondent: str = "",
    actor=None,
) -> SurveyResponse:
    with transaction.atomic(durable=True):
        template = _get(SurveyTemplate, template_id, "survey template")
        if customer_id is not None:
            _get(BigCustomer, customer_id, "big customer")
        if charge_account_id is not None:
            _get(ChargeAccount, charge_account_id, "charge account")
        response = SurveyResponse.objects.create(
            template=template,
            event_name=_text("event_name", event_name, 200, required=True),
            event_on=event_on,
            customer_id=customer_id,
            charge_account_id=charge_account_id,
            respondent=_text("respondent", respondent, 60),
            answers=_answers(template.questions, answers),
            created_at=clock.now(),
            by=actor if getattr(actor, "pk", None) else None,
        )
        audit_write(
            action="b2b.survey.response", obj=response, after={"event": response.event_name}, actor=actor
        )
    return response
