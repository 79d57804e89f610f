"""The service records as an Excel ledger: export only.

Hours enter the ledger through check-in/out or a second-approved request, never through a
file, so this dataset has no import. Recorded hours (补录) and corrections (更正) are marked
in their own columns, as on every list and certificate."""

from wenming.core.excel import CHUNK_SIZE, Column, Dataset, register_dataset
from wenming.core.scoping import scoped_within

from .models import ServiceRecord

KIND_LABELS = dict(ServiceRecord.Kind.choices)

COLUMNS = [
    Column("志愿者编号", "number", width=16),
    Column("姓名", "name", width=10),
    Column("序号", "sequence", kind="integer", width=6, help="该志愿者时长链中的序号"),
    Column("服务名称", "title", width=28),
    Column("服务日期", "service_date", kind="date", width=12),
    Column("服务地点", "place", width=20),
    Column("服务对象", "beneficiaries", width=16),
    Column("服务内容", "content", width=30),
    Column("时长（小时）", "hours", kind="number", width=10),
    Column("时长类型", "kind", width=10, help="核验时长来自签到签退；补录时长经第二人审批"),
    Column("更正", "correction", width=14, help="更正记录所更正的原记录序号"),
    Column("签到时间", "started_at", kind="datetime", width=18),
    Column("签退时间", "ended_at", kind="datetime", width=18),
    Column("服务质量评价", "quality_rating", kind="integer", width=8),
    Column("组织单位区划代码", "node_code", width=14),
    Column("组织单位", "node", width=24),
    Column("负责人", "responsible_person", width=10),
    Column("记录人", "recorded_by", width=12),
    Column("审批人", "approved_by", width=12),
    Column("审批时间", "approved_at", kind="datetime", width=18),
    Column("录入/调整原因", "reason", width=24),
    Column("记录哈希", "hash", width=20, help="防篡改校验值（wenming verify-ledger）"),
]

FIELDS = ("volunteer__number", "volunteer__name", "sequence", "title", "service_date", "place", "beneficiaries",
          "content", "minutes", "kind", "adjustment_of__sequence", "started_at", "ended_at", "quality_rating",
          "node__division_code", "node__name", "responsible_person", "recorded_by__display_name",
          "recorded_by__username", "approved_by__display_name", "approved_by__username", "approved_at", "reason",
          "hash")


def export_service_records(user, *, full: bool = False, within=None):
    rows = (scoped_within(ServiceRecord.objects.all(), user, within).order_by("node__path", "volunteer_id", "sequence")
            .values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE))
    for (number, name, seq, title, day, place, served, content, minutes, kind, corrects, start, end, rating, code,
         node, responsible, rec_name, rec_user, app_name, app_user, approved_at, reason, digest) in rows:
        yield (number, name, seq, title, day, place, served, content, round(minutes / 60, 2), str(KIND_LABELS[kind]),
               f"更正第{corrects}条" if corrects else "", start, end, rating, code, node, responsible,
               rec_name or rec_user, app_name or app_user, approved_at, reason, digest)


SERVICE_RECORDS = register_dataset(Dataset(
    name="service_records",
    title="志愿服务记录",
    columns=COLUMNS,
    export_rows=export_service_records,
    export_count=lambda user, within=None: scoped_within(ServiceRecord.objects.all(), user, within).count(),
    audit_name="service_record",
    notes=["服务记录只能导出：核验时长来自签到签退，补录时长须经第二人审批，均不能通过文件导入。"],
))
