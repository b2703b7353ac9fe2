"""Plain-text e-mail is not HTML: the text part and the subject show what was typed (`Tom & Jerry`,
not `Tom &amp; Jerry`); the HTML part is still escaped. Every `*.txt` e-mail template of every app."""

import datetime
import html as htmllib
from pathlib import Path

import pytest
from django.conf import settings

from ill.models import ExtensionRequest
from ill.notices import request_context
from notifications.models import OutboxMessage
from notifications.services import render
from tests import factories as f

pytestmark = pytest.mark.django_db

NASTY = "Tom & Jerry <1> \"q\" 'a'"
ENTITIES = ("&amp;", "&lt;", "&gt;", "&quot;", "&#x27;", "&#39;", "&#34;")


def email_templates() -> list[tuple[str, str, str]]:
    """(template, language, kind) of every message: `templates/<app>/email/<language>/<kind>.txt`."""
    found = []
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).glob("*/email/*/*.txt")):
            if path.stem.endswith("_subject"):
                continue
            app, _email, language = path.parts[-4:-1]
            found.append((f"{app}/email", language, path.stem))
    return found


def test_every_kind_of_message_has_its_templates_in_both_languages_among_those_checked():
    found = {(language, kind) for _template, language, kind in email_templates()}
    assert found == {(language, kind) for language, _name in settings.LANGUAGES for kind in OutboxMessage.Kind.values}


def context_for_everything(patron, lender) -> dict:
    """One context that fills in every template's variables, each text a patron or staff member
    typed set to NASTY."""
    patron.full_name = NASTY
    request = f.RequestFactory(
        patron=patron,
        status="on_loan",
        lender=lender,
        title=NASTY,
        status_note=NASTY,
        due_date=f.future(3),
        use_restriction="in_library",
        restriction_note=NASTY,
    )
    extension = ExtensionRequest(request=request, state="refused", answer_note=NASTY, new_due_date=f.future(19))
    return {
        **request_context(request),
        "days_left": 3,
        "days_overdue": 5,
        "reminder": 2,
        "collect_by": f.future(7),
        "days_waiting": 14,
        "extension": extension,
        "requests": [request],
        "count": 1,
        "day": datetime.date(2026, 11, 24),
        "desk_url": "http://127.0.0.1:8000/desk/",
        "scope": "code",
        "level": "80",
        "name": NASTY,
        "responsible": NASTY,
        "spent": 240000,
        "total": 300000,
        "percent": 80,
        "admin_url": "http://127.0.0.1:8000/admin/",
    }


@pytest.mark.parametrize(("template", "language", "kind"), email_templates())
def test_the_text_part_and_subject_are_not_html_escaped_and_the_html_part_is(
    template, language, kind, undergraduate, lender
):
    subject, text, html = render(template, kind, language, context_for_everything(undergraduate, lender))
    assert NASTY in text, f"{template}/{language}/{kind}.txt: {text[:400]}"
    for entity in ENTITIES:
        assert entity not in text and entity not in subject, f"{template}/{language}/{kind}: {entity} in plain text"
    assert NASTY not in html and htmllib.escape(NASTY, quote=True) in html


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_subject_shows_a_name_as_typed(language):
    subject, text, html = render(
        "fees/email",
        "budget_alert",
        language,
        {"scope": "support", "level": "closed", "name": NASTY, "spent": 1, "total": 1, "percent": 100},
    )
    assert NASTY in subject and NASTY in text
    assert "Tom &amp; Jerry &lt;1&gt; &quot;q&quot; &#x27;a&#x27;" in html
