"""`wenming verify-ledger` detects any record changed, removed or inserted behind the
application's back (directly in the database), says which, and exits non-zero."""

import hashlib
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from wenming.ledger.chain import HASHED_FIELDS, canonical_json, record_hash, verify_ledger
from wenming.ledger.models import ServiceRecord

from .helpers import recorded, settle, tamper


@pytest.fixture
def chains(tree, settings):
    """张三: five records (two recorded, then three verified); 李四: one. No points (rate 0), so
    that a deleted verified record leaves no dangling reference behind."""
    settings.WENMING_POINTS_PER_HOUR = 0
    recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 60, day=10)
    recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 90, day=11)
    for i in range(3, 6):
        settle(tree.admin, tree.zhang, tree.station, i, day=i)
    settle(tree.admin, tree.li, tree.station, 1)
    return tree


def record(volunteer, sequence):
    return ServiceRecord.objects.get(volunteer=volunteer, sequence=sequence)


def run_command(*args):
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_ledger", "--no-progress", *args, stdout=out)
    except CommandError as e:
        return e.returncode, out.getvalue()
    return 0, out.getvalue()


def test_an_intact_ledger_passes(chains):
    report = verify_ledger()
    assert report.ok and report.chains == 2 and report.records == 6
    code, out = run_command()
    assert code == 0 and "台账完好" in out
    # with the progress bar (on stderr) as well
    from io import StringIO

    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "已核对2条时长链、6条服务记录" in out.getvalue()


def test_an_edited_row_is_caught(chains):
    target = record(chains.zhang, 3)
    tamper("UPDATE ledger_servicerecord SET minutes = 480 WHERE id = %s", [target.pk])
    report = verify_ledger()
    assert [(p.kind, p.volunteer_id, p.sequence, p.record_id) for p in report.problems] == [
        ("changed", chains.zhang.pk, 3, target.pk)
    ]
    code, out = run_command()
    assert code == 1
    assert chains.zhang.number in out and "第 3 条记录" in out and "被改动" in out


def test_an_edit_with_a_recomputed_plain_sha256_is_still_caught(chains):
    """Whoever knows the algorithm but not the ledger key cannot re-seal an edited row."""
    target = record(chains.zhang, 2)
    content = {name: getattr(target, name) for name in HASHED_FIELDS}
    content["minutes"] = 240
    forged = hashlib.sha256(canonical_json(content, target.prev_hash)).hexdigest()
    tamper("UPDATE ledger_servicerecord SET minutes = 240, hash = %s WHERE id = %s", [forged, target.pk])
    kinds = {(p.kind, p.sequence) for p in verify_ledger().problems}
    assert ("changed", 2) in kinds  # its own seal is wrong
    assert ("relinked", 3) in kinds  # and the next record no longer links to it


def test_a_deleted_row_is_caught(chains):
    target = record(chains.zhang, 3)
    tamper("DELETE FROM ledger_servicerecord WHERE id = %s", [target.pk])
    problems = verify_ledger().problems
    assert [(p.kind, p.volunteer_id, p.sequence) for p in problems] == [("removed", chains.zhang.pk, 3)]
    code, out = run_command()
    assert code == 1 and "第 3 条记录缺失" in out


def test_a_deleted_last_row_is_caught(chains):
    target = record(chains.zhang, 5)
    tamper("DELETE FROM ledger_servicerecord WHERE id = %s", [target.pk])
    problems = verify_ledger().problems
    assert [(p.kind, p.sequence) for p in problems] == [("removed", 5)]
    assert "链尾" in problems[0].message


def _insert_copy(source: ServiceRecord, **overrides):
    """INSERT a new row copying `source`'s columns, with some overridden — raw SQL."""
    columns = [f for f in ServiceRecord._meta.concrete_fields if f.column != "id"]
    names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
    values = []
    for f in columns:
        value = overrides.get(f.attname, getattr(source, f.attname))
        values.append(f.get_db_prep_value(value, connection))
    placeholders = ", ".join(["%s"] * len(columns))
    tamper(f"INSERT INTO ledger_servicerecord ({names}) VALUES ({placeholders})", values)
    return ServiceRecord.objects.get(
        volunteer_id=overrides.get("volunteer_id", source.volunteer_id),
        sequence=overrides.get("sequence", source.sequence),
        hash=overrides["hash"],
    )


def test_an_inserted_row_is_caught(chains):
    """Someone appends 8 hours to 张三's chain, linking it correctly but without the key."""
    last = record(chains.zhang, 5)
    content = {name: getattr(last, name) for name in HASHED_FIELDS}
    content.update(sequence=6, minutes=480, reason="")
    forged = hashlib.sha256(canonical_json(content, last.hash)).hexdigest()
    inserted = _insert_copy(last, sequence=6, minutes=480, prev_hash=last.hash, hash=forged)
    problems = verify_ledger().problems
    assert [(p.kind, p.volunteer_id, p.sequence, p.record_id) for p in problems] == [
        ("inserted", chains.zhang.pk, 6, inserted.pk)
    ]
    code, out = run_command()
    assert code == 1 and "被插入" in out and chains.zhang.number in out


def test_an_inserted_row_sealed_with_the_key_is_still_caught_by_the_head(chains):
    """Even with the key, a row the application never appended lies beyond the chain head."""
    last = record(chains.zhang, 5)
    content = {name: getattr(last, name) for name in HASHED_FIELDS}
    content.update(sequence=6, minutes=480)
    _insert_copy(last, sequence=6, minutes=480, prev_hash=last.hash, hash=record_hash(content, last.hash))
    assert [(p.kind, p.sequence) for p in verify_ledger().problems] == [("inserted", 6)]


def test_a_row_moved_to_another_volunteer_is_caught(chains):
    """Hours moved from 张三 to 李四: removed from one chain, inserted into the other."""
    target = record(chains.zhang, 4)
    tamper(
        "UPDATE ledger_servicerecord SET volunteer_id = %s, sequence = 2 WHERE id = %s",
        [chains.li.pk, target.pk],
    )
    found = {(p.kind, p.volunteer_id, p.sequence) for p in verify_ledger().problems}
    assert ("removed", chains.zhang.pk, 4) in found
    assert ("inserted", chains.li.pk, 2) in found


def test_a_rewritten_chain_head_is_caught(chains):
    """Deleting the last record and winding the head back does not hide it: the head is sealed."""
    last, before = record(chains.zhang, 5), record(chains.zhang, 4)
    tamper("DELETE FROM ledger_servicerecord WHERE id = %s", [last.pk])
    tamper(
        "UPDATE ledger_ledgerchain SET length = 4, head_hash = %s WHERE volunteer_id = %s",
        [before.hash, chains.zhang.pk],
    )
    assert [p.kind for p in verify_ledger().problems] == ["head"]


def test_rewritten_totals_in_the_chain_head_are_caught(chains):
    """Inflating the head's running total (what summaries read) breaks its seal."""
    tamper(
        "UPDATE ledger_ledgerchain SET recorded_minutes = recorded_minutes + 600 WHERE volunteer_id = %s",
        [chains.zhang.pk],
    )
    problems = verify_ledger().problems
    assert [(p.kind, p.volunteer_id) for p in problems] == [("head", chains.zhang.pk)]


def test_an_unbalanced_movement_is_caught(tree):
    settle(tree.admin, tree.zhang, tree.station, 1)  # 20 points
    tamper("UPDATE ledger_pointentry SET amount = 200 WHERE amount = 20")
    problems = verify_ledger().problems
    assert [p.kind for p in problems] == ["unbalanced"]
    code, out = run_command()
    assert code == 1 and "借贷不平衡" in out


def test_one_volunteer_can_be_checked(chains):
    tamper("UPDATE ledger_servicerecord SET minutes = 1 WHERE volunteer_id = %s", [chains.zhang.pk])
    assert run_command("--volunteer", chains.li.number)[0] == 0
    assert run_command("--volunteer", chains.zhang.number)[0] == 1
    assert run_command("--volunteer", "000")[0] == 2


def test_wenming_verify_ledger_on_the_command_line(chains, monkeypatch, capsys):
    """`wenming verify-ledger` (hyphenated) runs the command and exits 1 on a tampered ledger."""
    from django.db import connections

    from wenming import cli

    # run_from_argv closes every connection when it ends; the test's transaction needs this one.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    monkeypatch.setattr(sys, "argv", ["wenming", "verify-ledger", "--no-progress"])
    cli.main()
    assert "台账完好" in capsys.readouterr().out
    tamper(
        "UPDATE ledger_servicerecord SET title = '伪造' WHERE volunteer_id = %s AND sequence = 1",
        [chains.li.pk],
    )
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 1
    assert chains.li.number in capsys.readouterr().out
