"""Error codes of b2b (stable; part of the API contract)."""

from laoke.core.errors import define

B2B_NOT_FOUND = define("B2B_NOT_FOUND", 404, "找不到{what}", "No such {what}")
B2B_LEVEL_INVALID = define(
    "B2B_LEVEL_INVALID", 422, "客户级别须为 A、B、C 或 D", "The level must be A, B, C or D"
)
B2B_CUSTOMER_LINK = define(
    "B2B_CUSTOMER_LINK",
    422,
    "大客户最多关联一个集体账户和一个会员",
    "A big customer links at most one group account and one member",
)
B2B_FIELD_INVALID = define("B2B_FIELD_INVALID", 422, "{field} 有误", "{field} is not valid")
B2B_OPPORTUNITY_CLOSED = define(
    "B2B_OPPORTUNITY_CLOSED", 409, "项目已结项，不能再修改", "The opportunity is closed and cannot change"
)
B2B_STAGE_INVALID = define(
    "B2B_STAGE_INVALID",
    422,
    "只能推进到下一阶段（当前：{stage}）",
    "An opportunity moves only to the next stage (now: {stage})",
)
B2B_KEY_NODE_OPEN = define(
    "B2B_KEY_NODE_OPEN",
    409,
    "本阶段的关键节点“{node}”尚未完成",
    "The stage's key node \u201c{node}\u201d is not done yet",
)
B2B_APPROVAL_NEEDED = define(
    "B2B_APPROVAL_NEEDED", 409, "本阶段须先通过{kind}审批", "This stage needs an approved {kind} first"
)
B2B_APPROVAL_WRONG_STAGE = define(
    "B2B_APPROVAL_WRONG_STAGE",
    409,
    "{kind}审批只能在“{stage}”阶段提交",
    "A {kind} approval can be filed only at the \u201c{stage}\u201d stage",
)
B2B_APPROVAL_PENDING = define(
    "B2B_APPROVAL_PENDING", 409, "已有待审批的{kind}申请", "A {kind} request is already pending"
)
B2B_APPROVAL_DONE = define(
    "B2B_APPROVAL_DONE", 409, "该申请已经审批过了", "This request has already been decided"
)
B2B_PROJECT_REPORT_INCOMPLETE = define(
    "B2B_PROJECT_REPORT_INCOMPLETE",
    422,
    "立项报告缺少：{missing}",
    "The project report is missing: {missing}",
)
B2B_SCHEDULE_INVALID = define(
    "B2B_SCHEDULE_INVALID",
    422,
    "收款计划各期金额之和须等于合同金额（合计 {total} 分，合同 {amount} 分）",
    "The installments must add up to the contract amount (sum {total} fen, contract {amount} fen)",
)
B2B_CONTRACT_UNSIGNED = define(
    "B2B_CONTRACT_UNSIGNED", 409, "合同尚未签订", "The contract has not been signed yet"
)
B2B_CLOSE_REASON_INVALID = define(
    "B2B_CLOSE_REASON_INVALID",
    422,
    "结项须选择结果（赢单/丢单/放弃）和原因，并填写总结",
    "Closing needs an outcome (won/lost/abandoned), a reason and a summary",
)
B2B_COLLECT_TOO_MUCH = define(
    "B2B_COLLECT_TOO_MUCH",
    409,
    "收款金额超过本期未收金额（未收 {remaining} 分）",
    "The amount exceeds what is still due on this installment ({remaining} fen)",
)
B2B_CREDIT_LIMIT = define(
    "B2B_CREDIT_LIMIT",
    409,
    "超出签单额度（额度 {limit} 分，已欠 {outstanding} 分）",
    "Over the credit limit (limit {limit} fen, outstanding {outstanding} fen)",
)
B2B_SETTLE_TOO_MUCH = define(
    "B2B_SETTLE_TOO_MUCH",
    409,
    "结账金额超过欠款（欠款 {outstanding} 分）",
    "The settlement exceeds the outstanding amount ({outstanding} fen)",
)
B2B_SIGNER_NOT_ALLOWED = define(
    "B2B_SIGNER_NOT_ALLOWED", 403, "{signer} 不是该单位的授权签单人", "{signer} may not sign for this account"
)
B2B_ACCOUNT_INACTIVE = define(
    "B2B_ACCOUNT_INACTIVE", 409, "签单账户已停用", "The charge account is not active"
)
B2B_LIMIT_BELOW_OUTSTANDING = define(
    "B2B_LIMIT_BELOW_OUTSTANDING",
    409,
    "签单额度不能低于当前欠款（{outstanding} 分）",
    "The credit limit cannot be below what is outstanding ({outstanding} fen)",
)
B2B_SURVEY_ANSWER_INVALID = define(
    "B2B_SURVEY_ANSWER_INVALID", 422, "问题 {question} 的回答有误", "The answer to {question} is not valid"
)
