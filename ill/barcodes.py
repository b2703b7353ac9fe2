"""Code 128 bar codes of request numbers, drawn as inline SVG for the printed slip and book band.

A desk scanner reads the bar code as typed text followed by Enter, so scanning it into the queue's
search box finds the request (the search matches request numbers exactly). Code 128 (subset B)
carries the number as printed, hyphens included.

The SVG comes from python-barcode; its bars are coloured with `style="fill:…"` attributes, which
the site's Content-Security-Policy (no 'unsafe-inline' styles) would drop — leaving a black
background. They are rewritten as presentation attributes (`fill="…"`), which the policy allows.
"""

import io
import re

import barcode
from barcode.writer import SVGWriter
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# 0.33 mm per module (13 mil) and 10 modules of quiet zone: what ordinary desk scanners read from
# laser-printed paper (ISO/IEC 15417 asks for at least 10 modules each side).
OPTIONS = {
    "module_width": 0.33,
    "module_height": 12.0,
    "quiet_zone": 3.3,
    "write_text": False,
    "compress": False,
}
_STYLE_FILL = re.compile(r'style="fill:\s*([a-z#0-9]+);?"')
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SIZE = re.compile(r'width="([0-9.]+)mm" height="([0-9.]+)mm"')
PX_PER_MM = 96 / 25.4  # CSS pixels: the user units the bars' millimetres resolve to


def code128_svg(value: str, *, label: str = "") -> SafeString:
    """The bar code of `value` as an <svg> element (no XML prologue), with an accessible name."""
    buffer = io.BytesIO()
    barcode.get("code128", value, writer=SVGWriter()).write(buffer, options=OPTIONS)
    svg = buffer.getvalue().decode("utf-8")
    svg = _COMMENT.sub("", _PROLOGUE.sub("", svg, count=1))
    svg = _STYLE_FILL.sub(r'fill="\1"', svg).replace(' id="barcode_group"', "")
    # A viewBox lets the stylesheet scale the whole code (without one, a smaller box crops the bars).
    size = _SIZE.search(svg)
    width, height = float(size.group(1)) * PX_PER_MM, float(size.group(2)) * PX_PER_MM
    svg = svg.replace(size.group(0), f'{size.group(0)} viewBox="0 0 {width:.2f} {height:.2f}"', 1)
    name = format_html(' role="img" aria-label="{}" class="barcode"', label or value)
    # python-barcode writes only the bars' geometry: the value itself is not in the markup.
    return mark_safe(svg.replace("<svg ", f"<svg{name} ", 1))  # noqa: S308
