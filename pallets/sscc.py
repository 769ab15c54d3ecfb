"""SSCC: extension digit + GS1 company prefix + serial reference (17 digits together) + GS1 check digit."""

from stdnum import ean

# ean.calc_check_digit is the GS1 mod-10 (weights 3 and 1 alternating from the right) for any length,
# so it serves the 17 digits of an SSCC as it does the 12 of an EAN-13.
SSCC_BODY = 17


def serial_digits(prefix):
    """How many digits the serial reference has with this company prefix."""
    return SSCC_BODY - 1 - len(prefix)


def max_serial(prefix):
    return 10 ** serial_digits(prefix) - 1


def compose(extension_digit, prefix, serial):
    body = f"{extension_digit}{prefix}{serial:0{serial_digits(prefix)}d}"
    if len(body) != SSCC_BODY:
        raise ValueError(f"serial {serial} does not fit after prefix {prefix}")
    return body + ean.calc_check_digit(body)


def is_valid(sscc):
    return len(sscc) == 18 and sscc.isdigit() and ean.calc_check_digit(sscc[:-1]) == sscc[-1]
