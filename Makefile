# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
GENERATE_ARGS ?=
BENCH_ARGS ?=

.PHONY: run test install translations messages demo check clean bench

run: install translations ## create the venv, install, migrate, load the demo and serve on $(HOST):$(PORT)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (SQLite, Celery tasks run eagerly, e-mail printed here)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install translations ## the whole test suite (PostgreSQL/Redis/Chromium tests skip when absent, fail under CI=true)
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { echo "The venv module is missing: sudo apt-get install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	@touch $@

translations: install ## compile locale/*.po (pure Python; no gettext needed)
	$(PY) manage.py compiletranslations -v0

messages: install ## refresh locale/ja/LC_MESSAGES/django.po from the code (needs gettext)
	$(PY) manage.py makemessages -l ja --ignore=.venv --ignore=staticfiles --no-obsolete
	$(PY) manage.py compiletranslations

bench: install translations ## the national-volume data set (generated when missing) and the page benchmark (bench/)
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "make bench needs DATABASE_URL=postgres://… (and CELERY_BROKER_URL=redis://…)"; exit 1;; esac
	@test -n "$$CELERY_BROKER_URL" || { echo "make bench needs CELERY_BROKER_URL=redis://…"; exit 1; }
	$(PY) bench/generate.py --if-missing $(GENERATE_ARGS)
	$(PY) bench/pages.py $(BENCH_ARGS)

check: install ## Django's deploy checks with production settings (needs the production environment: README)
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
