"""Online payments and recharge packages (充值套餐): a payment provider interface, Alipay and WeChat Pay
through their SDKs, a local fake provider; the bonus part of a package in its own ledger account."""
