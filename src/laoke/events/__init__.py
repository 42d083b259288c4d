"""Member events (会员活动, SPEC 13): member-day lotteries with an auditable draw, appreciation
events (答谢会) with their whole workflow, member forums (会员座谈会)."""
