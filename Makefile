# Wenming — two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install serve lint messages clean-demo

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

install: $(VENV)/.installed

## make demo: install, migrate the embedded SQLite database under var/, load the demo district, serve it.
demo: install
	@[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei >/dev/null; } || echo "!!! 证明PDF需要中文字体 / certificates need a CJK font: sudo apt-get install fonts-wqy-zenhei"
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo "文明实践云平台 → http://$(HOST):$(PORT)   (Ctrl+C 停止 / to stop)"
	$(VENV)/bin/gunicorn wenming.wsgi:application --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - 

serve: install
	$(VENV)/bin/gunicorn wenming.wsgi:application --bind $(HOST):$(PORT) --workers 2 --threads 4

## make test: install test dependencies (and Chromium + a CJK font where allowed), run the suite on SQLite and PostgreSQL.
test:
	bash scripts/test.sh

lint: install
	$(VENV)/bin/ruff check .

messages: install
	$(PY) manage.py makemessages -l en -i .venv -i tests -i bench -i var -i scripts
	$(PY) manage.py compilemessages -l en -i .venv

clean-demo:
	rm -f var/wenming.sqlite3 var/wenming.sqlite3-wal var/wenming.sqlite3-shm
