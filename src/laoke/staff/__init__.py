"""Staff work (SPEC 12): sales-rep daily plans and quotas, visit cadence by customer size, work
logs, monthly assessment; prospects and their follow-ups with lost reasons."""
