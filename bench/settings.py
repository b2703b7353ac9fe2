"""The production settings with the benchmark's URLs (`bench/urls.py`: the app's plus a bare view).

Used by `bench/pages.py` for gunicorn and for counting queries in-process; nothing else changes:
DEBUG off, the production middleware, templates, database and cache settings from the environment.
"""

from config.settings.production import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
