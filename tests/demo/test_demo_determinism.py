"""The demo is the same district every time: a pure plan from a fixed seed."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from stdnum.cn import uscc

from wenming.core.validators import validate_id_number, validate_phone
from wenming.demo import district, names
from wenming.people.models import Volunteer
from wenming.people.services import age_on


def test_plan_is_a_pure_function_of_the_seed():
    today = date(2026, 11, 23)
    first = district.plan_volunteers(300, today=today)
    assert first == district.plan_volunteers(300, today=today)
    assert first != district.plan_volunteers(300, seed=district.SEED + 1, today=today)
    # A larger load starts with the same people.
    assert district.plan_volunteers(400, today=today)[:300] == first


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 11, 23), date(2028, 12, 31)])
def test_planned_people_are_valid_all_year(today):
    plan = district.plan_volunteers(3000, today=today)
    assert len({p.id_number for p in plan}) == len({p.phone for p in plan}) == 3000
    stations = {code for _i, code, _n in district.station_rows()}
    for p in plan:
        assert validate_id_number(p.id_number, today) == p.id_number
        assert validate_phone(p.phone) == p.phone
        age = age_on(p.birth, today)
        assert 14 <= age <= 75
        assert bool(p.guardian_name) == bool(p.guardian_phone)
        if age < 18:
            assert p.guardian_name and validate_phone(p.guardian_phone)
        assert (int(p.id_number[16]) % 2 == 1) == p.male
        assert p.station in stations
        assert p.registered_at.date() <= today
        assert age_on(p.birth, p.registered_at.date()) >= 14


def test_credit_codes_carry_a_valid_check_digit():
    for _name, kind, body, *_rest in district.SOCIAL_ORGS:
        assert uscc.is_valid(names.uscc("5", kind, "430502", body))
    assert names.uscc("9", "1", "110000", "60003734") == "91110000600037341L"  # python-stdnum's own example


def test_id_check_digit_matches_gb_11643():
    assert names.id_check_digit("11010519491231002") == "X"  # the standard's example


@pytest.mark.django_db
def test_a_load_gives_the_planned_people():
    call_command("demo", volunteers=80, stdout=StringIO(), verbosity=0)
    loaded = list(Volunteer.objects.order_by("number").values_list("number", "name", "birth_date", "id_number_index"))
    plan = district.plan_volunteers(80)
    assert [(n, b) for _num, n, b, _i in loaded] == [(p.name, p.birth) for p in plan]
    assert [num for num, *_ in loaded] == [f"430502{i:08d}" for i in range(1, 81)]
