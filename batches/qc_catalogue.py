"""A starting defect catalogue for apples, pears and citrus, as South African packhouses grade them.

Majors make fruit unfit for class 1 or for export on their own (decay, pests with phytosanitary
weight, broken skin); minors are cosmetic and tolerated up to a limit. A company edits its own
copy on the Defect types page; `load_default_catalogue` only adds codes that are missing.
"""

from .models import DefectType
from .qc import create_defect_type

# (code, name, fruit_type ("" = any fruit), severity)
DEFAULT_CATALOGUE = (
    ("MECH-DAMAGE", "Mechanical damage (cuts, punctures)", "", "major"),
    ("DECAY", "Decay", "", "major"),
    ("HAIL", "Hail damage", "", "minor"),
    ("A-BRUISE", "Bruising", "apple", "major"),
    ("A-SUNBURN", "Sunburn", "apple", "minor"),
    ("A-SCAB", "Black spot (apple scab)", "apple", "major"),
    ("A-CODLING", "Codling moth", "apple", "major"),
    ("A-RUSSET", "Russet", "apple", "minor"),
    ("A-BITTER-PIT", "Bitter pit", "apple", "major"),
    ("A-FLY-STING", "Fruit fly sting", "apple", "major"),
    ("A-LENTICEL", "Lenticel spot", "apple", "minor"),
    ("A-MEALYBUG", "Mealybug", "apple", "major"),
    ("P-BRUISE", "Bruising", "pear", "major"),
    ("P-SUNBURN", "Sunburn", "pear", "minor"),
    ("P-SCAB", "Pear scab", "pear", "major"),
    ("P-CODLING", "Codling moth", "pear", "major"),
    ("P-RUSSET", "Russet", "pear", "minor"),
    ("P-FLY-STING", "Fruit fly sting", "pear", "major"),
    ("P-FRICTION", "Friction marks", "pear", "minor"),
    ("C-FCM", "False codling moth", "citrus", "major"),
    ("C-FLY-STING", "Fruit fly sting", "citrus", "major"),
    ("C-BLACK-SPOT", "Citrus black spot", "citrus", "major"),
    ("C-RIND-BREAKDOWN", "Rind breakdown", "citrus", "major"),
    ("C-WIND-SCAR", "Wind scar", "citrus", "minor"),
    ("C-THRIPS", "Thrips scarring", "citrus", "minor"),
    ("C-SUNBURN", "Sunburn", "citrus", "minor"),
    ("C-OLEO", "Oleocellosis (oil spotting)", "citrus", "minor"),
)


def load_default_catalogue():
    """Add the default defects whose codes the company does not have yet; return those added.

    Through the service, so the rules and the cache generation are the same as for a manager's
    entry. Safe to run again: existing codes, edited or not, are left alone.
    """
    have = set(DefectType.objects.values_list("code", flat=True))
    return [
        create_defect_type(code=code, name=name, fruit_type=fruit_type, severity=severity)
        for code, name, fruit_type, severity in DEFAULT_CATALOGUE
        if code not in have
    ]
