from laoke.core.errors import define

INSUFFICIENT_BALANCE = define("INSUFFICIENT_BALANCE", 409, "余额不足", "Insufficient balance")
TRANSFER_AMOUNT_INVALID = define(
    "TRANSFER_AMOUNT_INVALID", 422, "金额须为正整数", "The amount must be a positive integer"
)
TRANSFER_UNIT_MISMATCH = define(
    "TRANSFER_UNIT_MISMATCH",
    422,
    "不能在积分账户和资金账户之间转账",
    "Cannot transfer between points and money accounts",
)
TRANSFER_KEY_CONFLICT = define(
    "TRANSFER_KEY_CONFLICT",
    409,
    "该幂等键已用于另一笔不同的转账",
    "This idempotency key was used for a different transfer",
)
REVERSAL_EXCEEDS = define(
    "REVERSAL_EXCEEDS",
    409,
    "冲正金额超过原交易剩余可冲正金额（{left}）",
    "The reversal exceeds what is left to reverse ({left})",
)
REVERSAL_OF_REVERSAL = define(
    "REVERSAL_OF_REVERSAL", 422, "冲正交易不能再冲正", "A reversal cannot be reversed"
)
