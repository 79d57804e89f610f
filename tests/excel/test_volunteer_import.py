"""Importing volunteers from Excel: valid rows in, invalid rows reported, nothing twice, nothing partial."""

from datetime import date

import pytest
from django.utils import timezone

from wenming.core import pii
from wenming.core.excel import get_dataset, run_import
from wenming.core.models import AuditEntry
from wenming.people.models import Volunteer

from .conftest import VOLUNTEER_HEADERS, bad_checksum, id_number, phone, volunteer_row, xlsx

pytestmark = pytest.mark.django_db

VOLUNTEERS = get_dataset("volunteers")


def run(user, rows, *, dry_run=False, headers=VOLUNTEER_HEADERS, **kw):
    return run_import(VOLUNTEERS, user, xlsx(headers, rows), dry_run=dry_run, **kw)


def errors_by_row(report):
    out = {}
    for e in report.errors:
        out.setdefault(e.row, []).append((e.column, e.message))
    return out


def test_valid_rows_are_imported_with_encrypted_numbers_and_a_number(district):
    number, tel = id_number(date(1990, 5, 17), seq=123), phone()
    rows = [volunteer_row("王小明", number=number, tel=tel, political="中共党员", skills="医疗护理、文艺演出",
                          avail="周末、节假日", station_name="东风社区新时代文明实践站"),
            volunteer_row("李红")]
    report = run(district.district, rows)

    assert (report.total, report.imported, report.skipped, report.errors) == (2, 2, 0, [])
    v = Volunteer.objects.get(name="王小明")
    assert pii.decrypt(v.id_number_enc) == number and pii.decrypt(v.phone_enc) == tel
    assert v.id_number_masked == number[:6] + "********" + number[-4:]
    assert v.birth_date == date(1990, 5, 17) and v.gender == "male"
    assert v.station == district.station and v.political_status == "cpc"
    assert sorted(s.name for s in v.skills.all()) == ["医疗护理", "文艺演出"]
    assert v.availability == ["weekend", "holiday"]
    assert v.source == "import" and v.registered_by == district.district
    assert v.number.startswith("430502") and len(v.number) == 14
    assert v.name_initials == "wxm"
    # Each volunteer gets their registration audited (masked numbers only), and the import as a whole.
    entry = AuditEntry.objects.get(action="volunteer.register", object_id=str(v.pk))
    assert entry.after["id_number"] == v.id_number_masked and number not in str(entry.after)
    assert entry.after["skills"] == ["医疗护理", "文艺演出"]
    assert AuditEntry.objects.filter(action="volunteer.import", note__contains="已导入2行").exists()


def test_invalid_rows_are_reported_with_row_column_and_chinese_reason(district):
    good = volunteer_row("好人")
    rows = [
        good,
        volunteer_row("坏号码", number=bad_checksum(id_number())),
        volunteer_row("坏手机", tel="12345"),
        volunteer_row("", station="430502009999"),
        volunteer_row("所不是站", station="430502001000"),
        volunteer_row("没同意", consent="否"),
        volunteer_row("乱技能", skills="开飞机"),
        volunteer_row("乱面貌", political="宇航员"),
        volunteer_row("小孩", number=id_number(date(timezone.localdate().year - 10, 1, 1))),
        volunteer_row("少年", number=id_number(date(timezone.localdate().year - 16, 1, 1))),
        volunteer_row("名不符", station_name="别的社区"),
    ]
    report = run(district.district, rows)

    assert report.total == 11 and report.imported == 1 and report.failed == 10
    errs = errors_by_row(report)
    assert errs[3] == [("身份证号码", "身份证号码校验位不正确，请核对。")]
    assert errs[4][0][0] == "手机号码" and "11位" in errs[4][0][1]
    assert ("姓名", "必填，不能为空。") in errs[5]  # cell errors of a row are all reported
    assert errs[6][0][0] == "所属实践站区划代码" and "实践站" in errs[6][0][1]
    assert errs[7][0][0] == "已书面同意" and "书面同意" in errs[7][0][1]
    assert errs[8][0][0] == "技能" and "开飞机" in errs[8][0][1]
    assert errs[9][0][0] == "政治面貌" and "不在可选范围内" in errs[9][0][1]
    assert errs[10] == [("身份证号码", "未满14周岁不能注册为志愿者。")]
    assert errs[11][0][0] == "监护人姓名" and "监护人" in errs[11][0][1]
    assert errs[12][0][0] == "所属实践站" and "东风社区新时代文明实践站" in errs[12][0][1]
    assert all(e.letter for e in report.errors)  # the column letter is given too
    assert list(Volunteer.objects.values_list("name", flat=True)) == ["好人"]


def test_unknown_station_code_is_reported(district):
    report = run(district.district, [volunteer_row("甲", station="430502009999")])
    assert report.errors[0].column == "所属实践站区划代码"
    assert report.errors[0].message == "找不到区划代码为430502009999的实践站。"


def test_minor_with_guardian_is_imported(district):
    teen = id_number(date(timezone.localdate().year - 16, 1, 1))
    report = run(district.district, [volunteer_row("少年", number=teen, guardian="少年妈妈", guardian_phone="13712345678")])
    assert report.imported == 1, report.errors
    v = Volunteer.objects.get(name="少年")
    assert v.guardian_name == "少年妈妈" and v.guardian_consent_at is not None
    assert pii.decrypt(v.guardian_phone_enc) == "13712345678"


def test_dry_run_writes_nothing(district):
    before = AuditEntry.objects.count()
    report = run(district.district, [volunteer_row("甲"), volunteer_row("乙", tel="1")], dry_run=True)
    assert report.dry_run and (report.total, report.imported, report.failed) == (2, 1, 1)
    assert Volunteer.objects.count() == 0
    assert AuditEntry.objects.count() == before
    from wenming.core.models import Counter

    assert not Counter.objects.filter(name="volunteer_number", value__gt=0).exists()


def test_reimporting_the_same_file_imports_nothing_twice(district):
    rows = [volunteer_row("甲"), volunteer_row("乙"), volunteer_row("丙", tel="bad")]
    first = run(district.district, rows)
    assert first.imported == 2
    again = run(district.district, rows)
    assert (again.imported, again.skipped, again.failed) == (0, 2, 1)
    assert [s.message for s in again.skips] == ["已注册，跳过。", "已注册，跳过。"]
    assert [s.row for s in again.skips] == [2, 3]
    assert Volunteer.objects.count() == 2


def test_someone_registered_on_the_console_is_skipped(district):
    existing = district.volunteer("李四")
    report = run(district.district, [volunteer_row("李四", number=existing.plain_id.lower())])
    assert (report.imported, report.skipped) == (0, 1)


def test_duplicate_rows_in_one_file_are_reported(district):
    number = id_number()
    rows = [volunteer_row("甲", number=number), volunteer_row("乙"), volunteer_row("甲", number=number)]
    report = run(district.district, rows)
    assert report.imported == 2
    assert [(e.row, e.message) for e in report.errors] == [(4, "与第2行重复，本行未导入。")]


def test_station_admin_imports_only_into_their_reach(district):
    rows = [volunteer_row("本站", station="430502001001"), volunteer_row("外站", station="430502002001")]
    report = run(district.station_admin, rows)
    assert report.imported == 1
    assert [(e.row, e.column) for e in report.errors] == [(3, "所属实践站区划代码")]
    assert "不在您的管辖范围内" in report.errors[0].message
    assert list(Volunteer.objects.values_list("name", flat=True)) == ["本站"]


def test_a_row_that_fails_midway_leaves_nothing(district, monkeypatch):
    """If the block insert fails, rows are registered one by one; a row whose registration fails
    after its volunteer row was written (here: in the audit step) is undone whole."""
    from wenming.core import audit
    from wenming.people import datasets

    monkeypatch.setattr(datasets, "link_skills", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    real_record = audit.record

    def record(actor, action, obj=None, **kw):
        if obj is not None and getattr(obj, "name", "") == "半路失败":
            raise RuntimeError("audit down")
        return real_record(actor, action, obj, **kw)

    monkeypatch.setattr(audit, "record", record)
    rows = [volunteer_row("前", skills="医疗护理"), volunteer_row("半路失败", skills="医疗护理"),
            volunteer_row("后", skills="文艺演出")]
    report = run(district.district, rows)

    assert report.imported == 2
    assert [(e.row, e.message) for e in report.errors] == [(3, "该行保存时发生内部错误，未写入任何数据。")]
    assert sorted(Volunteer.objects.values_list("name", flat=True)) == ["前", "后"]
    through = Volunteer.skills.through
    assert through.objects.count() == 2  # the failed row's skill link went with it
    assert not AuditEntry.objects.filter(object_repr__contains="半路失败").exists()


def test_concurrent_registration_of_the_same_person_is_a_skip_not_a_failure(district, monkeypatch):
    """Someone registers a person between the duplicate check and the insert: the block fails on
    the unique blind index, the rows are retried one by one and that one is skipped."""
    from wenming.people import datasets

    number = district.volunteer("抢先").plain_id
    monkeypatch.setattr(datasets, "registered_among", lambda indexes: set())  # the check ran just before
    report = run(district.district, [volunteer_row("甲", number=number), volunteer_row("乙")])
    assert (report.imported, report.skipped, report.failed) == (1, 1, 0)
    assert sorted(Volunteer.objects.values_list("name", flat=True)) == ["乙", "抢先"]


def test_numbers_typed_as_numbers_are_read_as_text(district):
    row = volunteer_row("甲")
    row[2] = int(row[2])  # phone as a number cell
    row[3] = 430502001001  # division code as a number cell
    report = run(district.district, [row])
    assert report.imported == 1, report.errors


def test_full_width_digits_are_the_same_number(district):
    number = id_number()
    wide = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    first = run(district.district, [volunteer_row("甲", number=wide, station="４３０５０２００１００１")])
    assert first.imported == 1, first.errors
    again = run(district.district, [volunteer_row("甲", number=number)])
    assert again.skipped == 1


def test_an_id_number_that_excel_turned_into_a_float_is_explained(district):
    row = volunteer_row("甲")
    row[1] = float(row[1][:17] + "0")
    report = run(district.district, [row])
    assert report.errors[0].column == "身份证号码" and "文本" in report.errors[0].message


def test_headers_with_star_and_export_only_columns_are_accepted(district):
    headers = ["志愿者编号", "姓名*", "身份证号码*", "性别", "手机号码*", "所属实践站区划代码*", "已书面同意*", "来源"]
    report = run(district.district, [["", "甲", id_number(), "男", phone(), "430502001001", "是", "随便"]],
                 headers=headers)
    assert report.imported == 1, report.errors


def test_progress_is_reported(district):
    seen = []
    run(district.district, [volunteer_row(f"人{i}") for i in range(5)], progress=lambda done, total: seen.append((done, total)),
        chunk_size=2)
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_viewer_may_not_import(district):
    from wenming.core.errors import Forbidden

    with pytest.raises(Forbidden):
        run(district.viewer, [volunteer_row("甲")])
    assert Volunteer.objects.count() == 0
