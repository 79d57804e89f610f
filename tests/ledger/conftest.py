"""Fixtures of the ledger's tests, self-contained:

    centre   430502000000  双清区新时代文明实践中心
    ├── institute 430502001000  东风路街道新时代文明实践所
    │   └── station 430502001001  东风社区新时代文明实践站   (volunteers 张三, 李四)
    └── institute 430502002000  汽车站街道新时代文明实践所
        └── station 430502002001  东站社区新时代文明实践站   (volunteer 王五)

Accounts: two district admins (`admin`, `admin2`, so that one can approve what the other
entered), an institute admin of the first institute (`inst_admin`), a station admin of the
other station (`far_admin`, out of reach of the first branch), a team leader, and the
account of the volunteer 张三 (`vol_user`).

(On PostgreSQL, tests/conftest.py opens the maintenance setting for the test database so
that transactional tests can empty the append-only tables.)
"""

import pytest

from .helpers import Tree, build_tree


@pytest.fixture
def tree(db) -> Tree:
    return build_tree()
