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

# The address the printed login and the e-mails' links point to: the served host and port (all
# interfaces, 0.0.0.0 or ::, as 127.0.0.1), unless SITE_URL is set in the environment, on the
# command line or in .env (Django reads .env itself: then nothing is passed here).
RUN_HOST = $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))
RUN_SITE_URL = $(if $(SITE_URL),$(SITE_URL),$(if $(shell grep -s '^[[:space:]]*SITE_URL=' .env),,http://$(RUN_HOST):$(PORT)))
RUN_ENV = $(if $(RUN_SITE_URL),SITE_URL='$(RUN_SITE_URL)')

run: install translations ## create the venv, install, migrate, load the demo and serve on $(HOST):$(PORT)
	$(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py load_demo
	$(RUN_ENV) $(PY) manage.py load_lending_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (SQLite, Celery tasks run eagerly, e-mail printed here)"
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

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
