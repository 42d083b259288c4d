"""Service and care (客户服务, SPEC 12): reviews and complaints with handling by level, assignment,
due times and escalation; care content and call-case libraries; greetings; reactivation rules."""
