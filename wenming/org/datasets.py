"""Excel ledgers of the organisation tree and of sites (registered with the core Excel engine in ready()).

Every row goes through the services (create_node, create_site), in its own savepoint, so the
same rules and the same scoping apply as on the console. A row whose natural key is already
there (a division code; a site's name within its node) is skipped and reported.
"""

from django.utils import translation

from wenming.core.excel import (
    CellInvalid,
    Column,
    Dataset,
    ImportContext,
    Skip,
    boolean,
    check_node_name,
    choice,
    decimal,
    division_code,
    integer,
    register_dataset,
)
from wenming.core.models import OrgNode
from wenming.core.scoping import in_reach, require_manager, scoped_within
from wenming.core.services import CHILD_KIND, create_node

from .models import Site
from .services import create_site

with translation.override("zh-hans"):
    KIND_LABELS = {value: str(label) for value, label in OrgNode.Kind.choices}
    SITE_KIND_LABELS = {value: str(label) for value, label in Site.Kind.choices}
KIND_OPTIONS = {label: value for value, label in KIND_LABELS.items()} | {
    "中心": "centre", "实践中心": "centre", "所": "institute", "实践所": "institute", "站": "station", "实践站": "station"}
SITE_KIND_OPTIONS = {label: value for value, label in SITE_KIND_LABELS.items()}

LATITUDE = decimal(-90, 90)
LONGITUDE = decimal(-180, 180)


def check_coordinates(values: dict) -> None:
    if (values.get("lat") is None) != (values.get("lng") is None):
        raise CellInvalid("lng" if values.get("lng") is None else "lat", "经纬度须同时填写或同时留空。",
                          code="coordinates_partial")


# --- Org nodes ------------------------------------------------------------------------------------

NODE_COLUMNS = [
    Column("上级区划代码", "parent_code", parse=division_code, width=16,
           help="上级组织的12位区划代码（须已存在，或在本文件的前面几行）；中心不填。"),
    Column("名称", "name", required=True, max_chars=100, width=28),
    Column("类型", "kind", required=True, parse=choice(KIND_OPTIONS), width=20, choices=tuple(KIND_LABELS.values()),
           help="新时代文明实践中心、所或站（也可填“中心”“所”“站”），须与上级一致：中心之下为所，所之下为站。"),
    Column("区划代码", "division_code", required=True, parse=division_code, width=16,
           help="统计用区划代码，12位：中心为县级（后6位为0），所为乡镇（后3位为0），站为村（社区）。"),
    Column("负责书记", "secretary", max_chars=50, width=10),
    Column("联系电话", "contact_phone", max_chars=20, width=14),
    Column("地址", "address", max_chars=200, width=30),
    Column("纬度", "lat", parse=LATITUDE, kind="number", width=10, help="选填，-90至90；与经度同时填写。"),
    Column("经度", "lng", parse=LONGITUDE, kind="number", width=10, help="选填，-180至180；与纬度同时填写。"),
    Column("示范点", "is_demonstration", parse=boolean, width=8, choices=("是", "否"), help="是或否，不填为否。"),
]

NODE_ERRORS = {
    "name_invalid": "name", "division_code_format": "division_code", "division_code_level": "division_code",
    "division_code_parent": "division_code", "division_code_taken": "division_code",
    "out_of_scope": "parent_code", "role_forbidden": "parent_code", "node_too_deep": "parent_code",
    "centre_exists": "parent_code",
}


def import_node(ctx: ImportContext, values: dict) -> None:
    code = values["division_code"]
    existing = ctx.node(code)
    if existing is not None:
        if not in_reach(ctx.user, existing):
            raise CellInvalid("division_code", "该区划代码的组织已存在，且不在您的管辖范围内。", code="out_of_scope")
        raise Skip("区划代码已存在，跳过。")
    parent = None
    if values.get("parent_code"):
        parent = ctx.node(values["parent_code"])
        if parent is None:
            raise CellInvalid("parent_code", f"找不到区划代码为{values['parent_code']}的上级组织（须已存在，或在本文件的前面几行）。",
                              code="parent_not_found")
    expected = CHILD_KIND.get(parent.kind) if parent is not None else OrgNode.Kind.CENTRE
    if expected and values["kind"] != expected:
        where = f"上级是{parent.kind_label}" if parent is not None else "没有上级"
        raise CellInvalid("kind", f"{where}，本行类型应为“{KIND_LABELS[expected]}”。", code="kind_mismatch")
    check_coordinates(values)
    fields = {k: values.get(k) for k in ("secretary", "contact_phone", "address", "lat", "lng")}
    fields = {k: v for k, v in fields.items() if v is not None}
    fields["is_demonstration"] = bool(values.get("is_demonstration"))
    node = create_node(ctx.user, parent, name=values["name"], division_code=code, **fields)
    ctx.remember(node)


def export_nodes(user, *, full: bool = False, within: OrgNode | None = None):
    """In tree order, so that a parent always comes before its children (the file re-imports)."""
    codes: dict[str, str] = {}
    fields = ("path", "division_code", "name", "kind", "secretary", "contact_phone", "address", "lat", "lng",
              "is_demonstration")
    for path, code, name, kind, secretary, phone, address, lat, lng, demo in \
            scoped_within(OrgNode.objects.all(), user, within).order_by("path").values_list(*fields).iterator(chunk_size=2000):
        codes[path] = code
        parent_path = path[:-OrgNode.steplen]
        parent = codes.get(parent_path) if parent_path else ""
        if parent is None:  # the top of the user's reach: its parent is outside it
            parent = OrgNode.objects.filter(path=parent_path).values_list("division_code", flat=True).first() or ""
            codes[parent_path] = parent
        yield (parent, name, KIND_LABELS.get(kind, kind), code, secretary, phone, address, lat, lng,
               "是" if demo else "否")


NODES = register_dataset(Dataset(
    name="nodes",
    title="实践组织",
    columns=NODE_COLUMNS,
    import_row=import_node,
    export_rows=export_nodes,
    export_count=lambda user, within=None: scoped_within(OrgNode.objects.all(), user, within).count(),
    key=lambda values: values.get("division_code"),
    audit_name="org",
    error_columns=NODE_ERRORS,
    template=[
        ("430502000000", "东风路街道新时代文明实践所", "新时代文明实践所", "430502001000", "王书记", "0739-1234567",
         "东风路1号", 27.24, 111.47, "否"),
        ("430502001000", "东风社区新时代文明实践站", "新时代文明实践站", "430502001001", "李书记", "13800000000",
         "东风社区服务中心", 27.25, 111.48, "是"),
    ],
    notes=["按区划代码识别同一组织：已有的会跳过，不会修改。上级须写在下级前面。"],
))


# --- Sites ------------------------------------------------------------------------------------------

SITE_COLUMNS = [
    Column("所属组织区划代码", "node_code", required=True, parse=division_code, width=16,
           help="阵地所属中心、所或站的12位区划代码，须在您的管辖范围内。"),
    Column("所属组织", "node_name", max_chars=100, width=24, help="选填；填写时须与区划代码对应的组织名称一致。"),
    Column("阵地名称", "name", required=True, max_chars=100, width=24),
    Column("类型", "kind", required=True, parse=choice(SITE_KIND_OPTIONS), width=16,
           choices=tuple(SITE_KIND_LABELS.values()), help="可选：" + "、".join(SITE_KIND_LABELS.values()) + "。"),
    Column("地址", "address", max_chars=200, width=30),
    Column("纬度", "lat", parse=LATITUDE, kind="number", width=10, help="选填，-90至90；与经度同时填写。"),
    Column("经度", "lng", parse=LONGITUDE, kind="number", width=10, help="选填，-180至180；与纬度同时填写。"),
    Column("签到半径（米）", "radius_m", parse=integer(10, 5000), kind="integer", width=12, help="10至5000，不填为300。"),
]

SITE_ERRORS = {"name_invalid": "name", "site_name_taken": "name", "site_kind_invalid": "kind",
               "coordinates_partial": "lat", "coordinates_invalid": "lat", "radius_invalid": "radius_m",
               "out_of_scope": "node_code", "role_forbidden": "node_code"}


def import_site(ctx: ImportContext, values: dict) -> None:
    node = ctx.node(values["node_code"])
    if node is None:
        raise CellInvalid("node_code", f"找不到区划代码为{values['node_code']}的组织。", code="node_not_found")
    check_node_name(values, "node_name", node)
    require_manager(ctx.user, node)
    if Site.objects.filter(node=node, name=values["name"]).exists():
        raise Skip("本组织下已有同名阵地，跳过。")
    check_coordinates(values)
    fields = {k: values.get(k) for k in ("name", "kind", "address", "lat", "lng", "radius_m")}
    create_site(ctx.user, node, **fields)


def export_sites(user, *, full: bool = False, within: OrgNode | None = None):
    fields = ("node__division_code", "node__name", "name", "kind", "address", "lat", "lng", "radius_m")
    rows = scoped_within(Site.objects.all(), user, within).order_by("node__path", "id").values_list(*fields).iterator(chunk_size=2000)
    for code, node, name, kind, address, lat, lng, radius in rows:
        yield (code, node, name, SITE_KIND_LABELS.get(kind, kind), address, lat, lng, radius)


SITES = register_dataset(Dataset(
    name="sites",
    title="阵地",
    columns=SITE_COLUMNS,
    import_row=import_site,
    export_rows=export_sites,
    export_count=lambda user, within=None: scoped_within(Site.objects.all(), user, within).count(),
    key=lambda values: (values.get("node_code"), values.get("name")),
    audit_name="site",
    error_columns=SITE_ERRORS,
    template=[("430502001001", "东风社区新时代文明实践站", "东风社区道德讲堂", "道德讲堂", "东风社区服务中心二楼",
               27.25, 111.48, 300)],
    notes=["同一组织下阵地名称相同即视为同一阵地：已有的会跳过，不会修改。"],
))
