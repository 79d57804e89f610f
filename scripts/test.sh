#!/usr/bin/env bash
# The whole test suite: SQLite always, PostgreSQL when WENMING_TEST_PG is set or a server answers on 127.0.0.1:5432.
# WENMING_REQUIRE_PG=1 makes a missing PostgreSQL run a failure (CI); WENMING_CI=1 makes skipped browser tests fail.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# System packages the tests need: Chromium for the browser tests, a CJK font so pages render Chinese.
need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need+=(fonts-noto-cjk)
# Certificates (PDF) embed a TrueType CJK font; their tests read the PDF back with poppler.
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== 安装系统依赖 / installing: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "!!! 无法安装 ${need[*]}（需要 root 与 apt-get）：浏览器测试与证明PDF测试将被跳过 / cannot install ${need[*]}: BROWSER AND PDF TESTS WILL BE SKIPPED !!!"
  fi
fi

echo "== ruff"
.venv/bin/ruff check .

ran=()
echo "== pytest on SQLite"
env -u DATABASE_URL .venv/bin/pytest -p no:randomly -rs "$@"
ran+=(SQLite)

PG_URL=${WENMING_TEST_PG:-}
if [ -z "$PG_URL" ] && .venv/bin/python - <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", 5432)) == 0 else 1)
PY
then
  PG_URL=postgres://postgres@127.0.0.1:5432/wenming
fi
if [ -n "$PG_URL" ]; then
  echo "== pytest on PostgreSQL ($PG_URL)"
  DATABASE_URL="$PG_URL" .venv/bin/pytest -p no:randomly -rs "$@"
  ran+=(PostgreSQL)
elif [ "${WENMING_REQUIRE_PG:-0}" = 1 ]; then
  echo "!!! PostgreSQL 未运行，测试未在 PostgreSQL 上执行 / PostgreSQL run required but no server answered"
  exit 1
else
  echo "!!! 未检测到 PostgreSQL：只在 SQLite 上运行 / no PostgreSQL: ran on SQLite only"
fi
echo "== 测试已在以下数据库上运行 / the suite ran on: ${ran[*]}"
