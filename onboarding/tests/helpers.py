import io

import openpyxl


def csv_bytes(*lines):
    return ("\n".join(lines) + "\n").encode()


def xlsx_bytes(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
