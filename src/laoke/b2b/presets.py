"""Presets from the seed documents (docs/decisions/0036-b2b.md).

Seed 002 (大客户销售管理流程): six progressive stages, each with its key node (关键节点), the A/B/C/D
big-customer grading filled in on the follow-up sheet (大客户跟进表), and the 立项 report fields.
Seed 000 (hotel plan): 签单重点客户 (charge-account customers) and the 会务活动调查表 (conference-event
survey) used "向客户征求意见, 了解客户的需求". The seed names the grades and the survey's purpose but
not their contents: the level definitions and the survey questions below are ours, written from the
seed's wording, and are data a shop may change later.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- the six stages (seed 002, in order) ---------------------------------------------------------


@dataclass(frozen=True)
class StagePreset:
    key: str
    name: str  # the seed's own name
    key_node: str  # 关键节点, verbatim from the seed
    checklist: tuple[str, ...]  # the key node first, then the stage's main work items (seed 002)
    approval: str = ""  # the approval that gates leaving this stage ("" = none)


STAGES: tuple[StagePreset, ...] = (
    StagePreset(
        "development",
        "客户开发",
        "准确的项目信息",
        (
            "准确的项目信息",
            "评估销售机会：需求、进度表、预算、竞争、决策和优先评估项",
            "判断A/B/C/D级别并填写大客户跟进表",
        ),
    ),
    StagePreset(
        "initiation",
        "立项",
        "售前立项",
        ("售前立项", "与决策者建立联系", "制定客户高层维护计划"),
        approval="project",
    ),
    StagePreset(
        "proposal",
        "提案",
        "有效的客户关系推进",
        ("有效的客户关系推进", "重新评估立项报告", "提交建议方案和产品/解决方案演示"),
    ),
    StagePreset(
        "bidding",
        "招投标",
        "投标或议标",
        ("投标或议标", "工程成本和毛利分析", "投标价格决策并审核投标价格和工作说明书", "阶段总结报告"),
        approval="bid",
    ),
    StagePreset(
        "negotiation",
        "商务谈判",
        "合同审批和合同签订",
        ("合同审批和合同签订",),
        approval="contract",
    ),
    StagePreset(
        "delivery",
        "工程实施",
        "工程验收和项目结项",
        ("工程验收和项目结项", "完成售前与实施交接，委任项目经理", "按合同条款按时收款"),
    ),
)
STAGE_KEYS: tuple[str, ...] = tuple(s.key for s in STAGES)
STAGE_BY_KEY: dict[str, StagePreset] = {s.key: s for s in STAGES}


def stage_index(key: str) -> int:
    return STAGE_KEYS.index(key)


# --- big-customer levels A–D (seed 002 names them; definitions are ours) -------------------------


@dataclass(frozen=True)
class LevelPreset:
    key: str
    name: str
    definition: str
    follow_up_days: int  # how often the owner should fill in the follow-up sheet


LEVELS: tuple[LevelPreset, ...] = (
    LevelPreset("A", "A级客户", "战略大客户：大项目或年度合作，总经理关注", 7),
    LevelPreset("B", "B级客户", "重点客户：明确项目与预算，销售经理关注", 14),
    LevelPreset("C", "C级客户", "一般客户：有需求意向，项目尚不明确", 30),
    LevelPreset("D", "D级客户", "潜在客户：仅有线索，待开发", 60),
)
LEVEL_BY_KEY: dict[str, LevelPreset] = {level.key: level for level in LEVELS}

# --- the 立项 report (seed 002, in the seed's order) ----------------------------------------------

PROJECT_REPORT_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "项目名称"),
    ("number", "项目编号"),
    ("customer_lead", "客户方负责人"),
    ("expected_amount_fen", "预计签约金额"),
    ("estimated_margin_bp", "项目毛利率估计"),
    ("sales_budget_fen", "销售费用预算"),
    ("category", "项目分类"),
    ("expected_sign_on", "预计签约时间"),
)

# --- follow-up methods (大客户跟进表 "跟进方式": seed 002 names 交流和调研, visits and calls) ------------

FOLLOW_UP_METHODS: tuple[tuple[str, str], ...] = (
    ("visit", "拜访"),
    ("phone", "电话"),
    ("meeting", "交流会/演示"),
    ("survey", "调研"),
    ("message", "短信/微信"),
    ("other", "其他"),
)

# --- close-out reasons (seed 002: 没有入围, 成本过高不投标, 投标失败, 项目验收结项) ------------------

CLOSE_REASONS: tuple[tuple[str, str, str], ...] = (
    # (key, outcome, label)
    ("accepted", "won", "工程验收，项目结项"),
    ("not_shortlisted", "lost", "没有入围"),
    ("bid_lost", "lost", "投标失败"),
    ("price", "lost", "价格竞争失利"),
    ("cost_too_high", "abandoned", "成本过高，利润达不到要求，不投标"),
    ("unfavourable_terms", "abandoned", "客户购买指标对我方不利，退出竞争"),
    ("customer_cancelled", "abandoned", "客户取消项目"),
    ("other", "", "其他"),
)
CLOSE_REASON_BY_KEY = {key: (outcome, label) for key, outcome, label in CLOSE_REASONS}

# --- the conference-event survey (会务活动调查表, seed 000) ----------------------------------------

SURVEY_NAME = "会务活动调查表"
SURVEY_QUESTIONS: tuple[dict, ...] = (
    {"key": "overall", "text": "您对本次会议接待的总体满意度", "type": "scale", "min": 1, "max": 5},
    {"key": "venue", "text": "会场布置与设备", "type": "scale", "min": 1, "max": 5},
    {"key": "catering", "text": "餐饮安排", "type": "scale", "min": 1, "max": 5},
    {"key": "rooms", "text": "客房", "type": "scale", "min": 1, "max": 5},
    {"key": "staff", "text": "服务人员的形象、仪表与热情周到", "type": "scale", "min": 1, "max": 5},
    {"key": "tracking", "text": "全程跟踪服务是否及时", "type": "choice", "choices": ["是", "否"]},
    {"key": "needs", "text": "您的需求与意见", "type": "text"},
    {
        "key": "next_event",
        "text": "下次会议是否还选择我们",
        "type": "choice",
        "choices": ["会", "不确定", "不会"],
    },
)
