"""The production image carries every app of the project (a new app not copied would fail only in Docker)."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_image_copies_every_app_of_the_project():
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE))
    ours = {app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()}
    assert ours, "no app of the project found"
    assert ours <= copied, f"not copied into the image: {sorted(ours - copied)}"
