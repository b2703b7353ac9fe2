"""These tests read the services' and pages' messages in English, the source language (the site's
default is Japanese; tests that check the Japanese wording switch to it themselves)."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield
