"""A recommended checklist (100 points over the seed's nine areas), offered when an organiser
sets up its first template and used by the demo. An organiser edits it into its own versions."""

from __future__ import annotations

DEFAULT_CODE = "center-standard"
DEFAULT_NAME = "便民服务中心（站）规范化建设督查评分表"

DEFAULT_ITEMS: list[dict] = [
    {"category": "site", "max_score": "10", "text": "场所标识统一规范，咨询引导、办事、等候、自助等功能分区合理",
     "guidance": "标识不统一扣3分；缺少功能区每项扣2分"},
    {"category": "site", "max_score": "5", "text": "设置诉求接待室、意见箱，公开咨询电话和监督投诉电话",
     "guidance": "每缺一项扣1分"},
    {"category": "stationed_items", "max_score": "10", "text": "必进部门站所全部进驻，不再单独设置便民服务场所",
     "guidance": "每缺一个必进部门或单设场所扣2分"},
    {"category": "stationed_items", "max_score": "5", "text": "除涉密事项外，乡镇（村居）事项应进必进",
     "guidance": "每缺一项扣0.5分"},
    {"category": "windows", "max_score": "10", "text": "设置综合受理窗口，窗口标识和工作人员信息公开",
     "guidance": "未设综合窗口扣5分；信息未公开扣2分"},
    {"category": "windows", "max_score": "5", "text": "窗口配置评价器或扫码评价，主动引导办事群众评价",
     "guidance": "未配置扣3分；未引导扣2分"},
    {"category": "daily", "max_score": "10", "text": "落实首问负责、一次性告知、限时办结，差评回访整改到位",
     "guidance": "发现一例扣2分"},
    {"category": "staff", "max_score": "10", "text": "工作人员持证上岗、着装规范、在岗在位、服务文明",
     "guidance": "发现一人次扣2分"},
    {"category": "rules", "max_score": "5", "text": "建立考勤、AB角、服务承诺等制度并公开",
     "guidance": "每缺一项扣1分"},
    {"category": "dossiers", "max_score": "15", "text": "业务卷宗材料齐全，受理、办结记录完整，时限规范",
     "guidance": "每份卷宗有缺项扣3分"},
    {"category": "item_list", "max_score": "5", "text": "事项清单对外公开，与平台发布内容一致",
     "guidance": "未公开扣5分；不一致每项扣1分"},
    {"category": "guides", "max_score": "10", "text": "办事指南要素齐全、准确，与实施清单一致",
     "guidance": "每发现一处错漏扣1分"},
]
