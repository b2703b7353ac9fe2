"""The request slip and the book band carry a Code 128 bar code of the request number that a
desk scanner reads back as the number (decoded here from the SVG's bars, as a scanner would)."""

import re

import pytest
from barcode.charsets import code128

from ill.barcodes import PX_PER_MM, code128_svg
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

BAR = re.compile(r'<rect x="([0-9.]+)mm" y="[0-9.]+mm" width="([0-9.]+)mm" height="[0-9.]+mm" fill="black"/>')
MODULE = 0.33


def decode(svg: str) -> str:
    """Read the bars back into characters: the widths of bars and spaces in modules, eleven
    modules a symbol (thirteen for the stop), start code B, check digit verified."""
    bars = [(float(x), float(w)) for x, w in BAR.findall(svg)]
    modules = ""
    position = bars[0][0]
    for x, width in bars:
        modules += "0" * round((x - position) / MODULE) + "1" * round(width / MODULE)
        position = x + width
    stop = code128.STOP + "11"  # the stop symbol and its two-module termination bar
    assert modules.endswith(stop)
    symbols = [modules[i : i + 11] for i in range(0, len(modules) - len(stop), 11)]
    values = [code128.CODES.index(symbol) for symbol in symbols]
    start, *data, check = values
    assert check == (start + sum(i * v for i, v in enumerate(data, start=1))) % 103
    # python-barcode switches to subset C (two digits a symbol) for runs of digits, as scanners expect
    subset = {v: k for k, v in code128.START_CODES.items()}[start]
    text = ""
    for value in data:
        if subset == "C":
            if value < 100:
                text += f"{value:02d}"
            else:
                subset = {100: "B", 101: "A"}[value]
            continue
        table = code128.B if subset == "B" else code128.A
        if value == 99:
            subset = "C"
        elif value == 100 and subset == "A":
            subset = "B"
        elif value == 101 and subset == "B":
            subset = "A"
        else:
            text += {v: c for c, v in table.items()}[value]
    return text


def test_the_bar_code_reads_back_as_the_request_number():
    svg = str(code128_svg("ILL-2026-000123"))
    assert decode(svg) == "ILL-2026-000123"


def test_the_svg_keeps_to_the_content_security_policy_and_scales():
    svg = str(code128_svg("ILL-2026-000123"))
    assert "style=" not in svg  # an inline style would be dropped by the CSP (black background)
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-label="ILL-2026-000123"' in svg
    width_mm = float(re.search(r'width="([0-9.]+)mm"', svg).group(1))
    assert f'viewBox="0 0 {width_mm * PX_PER_MM:.2f}' in svg
    # at least ten modules of quiet zone either side, bars no thinner than 0.33 mm
    first_x = float(BAR.search(svg).group(1))
    assert first_x >= 10 * MODULE - 1e-9


def english(day) -> str:
    return f"{day.day} {day:%b} {day.year}"


def test_the_slip_shows_the_bar_code_and_the_due_dates(client, staff_user, lender):
    client.force_login(staff_user)
    request = f.RequestFactory(
        status="on_loan",
        lender=lender,
        due_date=f.future(7),
        lender_due_date=f.future(14),
        use_restriction="in_library",
    )
    slip = client.get(f"/desk/requests/{request.number}/slip/", headers={"accept-language": "en"}).content.decode()
    assert decode(slip[slip.index("<svg") : slip.index("</svg>")]) == request.number
    assert english(f.future(14)) in slip and english(f.future(7)) in slip  # 1 Dec 2026, not 12/01/2026
    assert "Back to the lender by" in slip and "In-library use only" in slip
    band = client.get(f"/desk/requests/{request.number}/band/", headers={"accept-language": "en"}).content.decode()
    assert decode(band[band.index("<svg") : band.index("</svg>")]) == request.number
    assert english(f.future(7)) in band and "In-library use only" in band


def test_a_scanned_number_finds_the_request_in_the_queue(client, staff_user):
    client.force_login(staff_user)
    request = f.RequestFactory()
    f.RequestFactory()
    page = client.get("/desk/requests/", {"q": decode(str(code128_svg(request.number)))})
    # one hit goes straight to the request, or the list shows it alone
    assert page.status_code in (200, 302)
    if page.status_code == 302:
        assert page["Location"].endswith(f"/desk/requests/{request.number}/")
    else:
        assert request.number in page.content.decode()
