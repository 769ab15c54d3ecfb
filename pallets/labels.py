"""The GS1 logistic label: element strings and their GS1-128 barcodes as SVG (python-barcode)."""

import io
import re

from barcode.codex import Gs1_128
from barcode.writer import SVGWriter
from django.utils import timezone
from stdnum import gs1_128

PX_PER_MM = 96 / 25.4
# python-barcode's FNC1: at the start it makes Code 128 into GS1-128; stdnum puts it after every
# variable-length element string but the last, where GS1 asks for a separator.
FNC1 = Gs1_128.FNC1_CHAR
SVG_OPTIONS = {"module_width": 0.33, "module_height": 18.0, "quiet_zone": 4.0, "write_text": False,
               "font_size": 0, "text_distance": 0, "compress": False}


def element_strings(pallet, lines):
    """The label's barcodes: [{AI: value}, ...], the SSCC alone in the last one, as GS1 lays a logistic label."""
    content = {
        "13": timezone.localtime(pallet.built_at).strftime("%y%m%d"),
        "37": str(sum(line.cartons for line in lines)),
    }
    batches = {line.batch.batch_code for line in lines}
    if len(batches) == 1:
        content["10"] = batches.pop()
    return [content, {"00": pallet.sscc}]


def human_readable(data):
    """The element strings in parentheses, in the barcode's order: the line printed under it."""
    return gs1_128.encode(data, separator=FNC1, parentheses=True).replace(FNC1, "")


def svg(data, title):
    """An inline <svg> of the GS1-128 symbol for `data` ({AI: value})."""
    symbol = Gs1_128(gs1_128.encode(data, separator=FNC1), writer=SVGWriter())
    out = io.BytesIO()
    symbol.write(out, options=SVG_OPTIONS)
    text = out.getvalue().decode()
    text = text[text.index("<svg"):]
    # The strict CSP refuses style attributes: fill as attributes instead (black is SVG's default).
    text = text.replace(' style="fill:black;"', "").replace(' style="fill:white"', ' fill="white"')
    # python-barcode sizes the symbol in mm without a viewBox, so a symbol wider than the A6 label was
    # clipped (its stop pattern and quiet zone cut off: unscannable). A viewBox in the user units the mm
    # resolve to (96 per inch) lets CSS scale the whole symbol down to the label's width instead.
    width, height = (float(re.search(rf'{name}="([0-9.]+)mm"', text).group(1)) for name in ("width", "height"))
    view_box = f'viewBox="0 0 {width * PX_PER_MM:.3f} {height * PX_PER_MM:.3f}"'
    return text.replace("<svg", f'<svg role="img" aria-label="{title}" {view_box}', 1)
