"""The demo's reference data: sites, farm and people's names, fruits and varieties, prices, reasons and notes."""

from growers.models import FruitType

PACKHOUSE_SITES = [
    ("Elgin Valley Packers", "Elgin Valley"),
    ("Koue Bokkeveld Fruit Packers", "Ceres"),
    ("Olifants River Citrus Packhouse", "Citrusdal"),
    ("Hex River Table Grape Packers", "De Doorns"),
    ("Breede River Deciduous Packhouse", "Wolseley"),
    ("Theewaterskloof Fruit Packers", "Villiersdorp"),
    ("Franschhoek Stone Fruit Packers", "Franschhoek"),
    ("Berg River Fruit Packhouse", "Paarl"),
    ("Clanwilliam Citrus Packers", "Clanwilliam"),
    ("Tulbagh Valley Packhouse", "Tulbagh"),
]

FARM_NAMES = [
    "Boplaas", "Rietvlei", "Waterval", "Welgevonden", "Doornkraal", "Langverwacht", "Kleinfontein",
    "Goedehoop", "Uitkyk", "Bergsig", "Rooiberg", "Klipdrift", "Nooitgedacht", "Vergenoegd", "Eikenhof",
    "Kromrivier", "Dwarsrivier", "Keurboom", "Paardekloof", "Sonskyn", "Blouberg", "Knolfontein",
    "Groenrivier", "Vaalkop", "Hoopsrivier", "Appelkloof", "Perdeberg", "Witzenberg", "Leeuwfontein",
    "Houdconstant", "Kleinvallei", "Olyvenbosch", "Tierhoek", "Vredenhof", "Môrewag", "Swartrivier",
    "Lindeshof", "Palmiet", "Oudebosch", "Rozendal",
]
FARM_SUFFIXES = ["Boerdery", "Farms", "Estate", "Orchards", "Landgoed", "Vrugte", "Trust", "Fruit (Pty) Ltd"]
FIRST_NAMES = [
    "Pieter", "Johan", "Annelie", "Thandi", "Sipho", "Marike", "Francois", "Nomvula", "Gerrit", "Elsabe",
    "Kobus", "Lindiwe", "Hendrik", "Riana", "Themba", "Carel", "Zanele", "Willem", "Anri", "Mandla",
    "Hannes", "Lerato", "Danie", "Karin",
]
SURNAMES = [
    "van der Merwe", "Botha", "du Toit", "Nel", "Smit", "Louw", "Mostert", "Nkosi", "Mokoena", "Dlamini",
    "Jacobs", "Hanekom", "le Roux", "Steyn", "Marais", "Visser", "Pretorius", "Ntuli", "Kruger", "Joubert",
    "Fourie", "Malan",
]
MOBILE_PREFIXES = ["82", "83", "84", "72", "73", "71", "76", "79"]
# Where each fruit is grown, for the growers' and farms' regions.
FRUIT_REGIONS = {
    FruitType.APPLE: ["Grabouw/Elgin", "Villiersdorp", "Ceres", "Koue Bokkeveld", "Langkloof"],
    FruitType.PEAR: ["Ceres", "Wolseley", "Tulbagh", "Koue Bokkeveld", "Langkloof", "Villiersdorp"],
    FruitType.CITRUS: ["Citrusdal", "Clanwilliam", "Sundays River Valley", "Letsitele", "Patensie"],
    FruitType.STONE_FRUIT: ["Wolseley", "Franschhoek", "Robertson", "Porterville", "Ceres"],
    FruitType.GRAPE: ["Hex River Valley", "Paarl", "Wellington", "Orange River"],
    FruitType.AVOCADO: ["Tzaneen", "Letsitele", "Levubu", "George"],
    FruitType.KIWIFRUIT: ["Tsitsikamma", "Tzaneen"],
}
# A grower's second, third and fourth farm: its home farm's name with a part ("Paardekloof Upper"), or a farm
# it bought (another name from FARM_NAMES).
FARM_PARTS = ["Upper", "Lower", "North", "South", "Oos", "Wes", "Vlakte", "Kloof", "Rivierplaas", "Bo-plaas"]
# The first letter of a farm's production unit code (PUC), by the farm's main fruit.
PUC_LETTER = {
    FruitType.APPLE: "A", FruitType.PEAR: "P", FruitType.CITRUS: "C", FruitType.STONE_FRUIT: "S",
    FruitType.GRAPE: "T", FruitType.AVOCADO: "V", FruitType.KIWIFRUIT: "K",
}
# GlobalG.A.P. numbers are GS1 GLNs from GlobalG.A.P.'s own prefix; the check digit is computed (python-stdnum).
GGN_PREFIX = "4063061"
# Residue laboratories and their report numbers, for spray clearances.
MRL_LABS = ["BEMLAB", "HKAL", "SGS", "INTERTEK", "FRUITLAB"]

# Share of the season's deliveries per fruit.
FRUIT_SHARE = {
    FruitType.APPLE: 28, FruitType.PEAR: 14, FruitType.CITRUS: 24, FruitType.STONE_FRUIT: 10,
    FruitType.GRAPE: 14, FruitType.AVOCADO: 7, FruitType.KIWIFRUIT: 3,
}
# (variety, share within the fruit, months of intake) for a southern-hemisphere season.
VARIETIES = {
    FruitType.APPLE: [
        ("Royal Gala", 24, (1, 2, 3)), ("Golden Delicious", 14, (2, 3, 4)), ("Granny Smith", 20, (3, 4, 5)),
        ("Fuji", 12, (3, 4)), ("Cripps Pink", 16, (4, 5)), ("Topred", 8, (2, 3)), ("Braeburn", 6, (3, 4)),
    ],
    FruitType.PEAR: [
        ("Packham's Triumph", 35, (2, 3, 4)), ("Forelle", 25, (2, 3, 4)), ("Williams Bon Chretien", 20, (1, 2)),
        ("Abate Fetel", 12, (2, 3)), ("Rosemarie", 8, (1, 2)),
    ],
    FruitType.CITRUS: [
        ("Navel", 25, (5, 6, 7)), ("Valencia", 24, (7, 8, 9, 10)), ("Eureka lemon", 15, (4, 5, 6, 7, 8)),
        ("Nadorcott", 12, (6, 7, 8)), ("Clementine", 10, (4, 5, 6)), ("Star Ruby grapefruit", 8, (4, 5, 6)),
        ("Midknight Valencia", 6, (9, 10, 11)),
    ],
    FruitType.STONE_FRUIT: [
        ("African Delight plum", 16, (12, 1, 2)), ("Laetitia plum", 12, (1, 2)), ("Sapphire plum", 8, (11, 12)),
        ("Fortune plum", 10, (1, 2, 3)), ("Bulida apricot", 14, (11, 12)), ("Transvalia peach", 12, (12, 1)),
        ("Alpine nectarine", 14, (11, 12)), ("August Red nectarine", 14, (1, 2)),
    ],
    FruitType.GRAPE: [
        ("Crimson Seedless", 30, (2, 3, 4)), ("Thompson Seedless", 20, (12, 1, 2)), ("Prime", 10, (11, 12)),
        ("Red Globe", 14, (1, 2, 3)), ("Sugraone", 8, (11, 12)), ("Autumn Royal", 8, (2, 3, 4)),
        ("Sweet Celebration", 10, (1, 2, 3)),
    ],
    FruitType.AVOCADO: [
        ("Hass", 60, (5, 6, 7, 8, 9, 10)), ("Fuerte", 25, (3, 4, 5, 6)), ("Pinkerton", 10, (5, 6, 7, 8)),
        ("Ryan", 5, (8, 9, 10)),
    ],
    FruitType.KIWIFRUIT: [("Hayward", 100, (3, 4, 5))],
}

GRADES = ("class1", "class2", "class3", "ungraded")
# Class 1 price per kg (ZAR) for the first half of the season, and the mid-season change.
CLASS1_PRICE = {
    FruitType.APPLE: "7.20", FruitType.PEAR: "7.80", FruitType.CITRUS: "6.40", FruitType.STONE_FRUIT: "13.50",
    FruitType.GRAPE: "19.00", FruitType.AVOCADO: "24.00", FruitType.KIWIFRUIT: "16.00",
}
GRADE_FACTOR = {"class1": "1", "class2": "0.62", "class3": "0.22", "ungraded": "0.55"}
MID_SEASON_CHANGE = {
    FruitType.APPLE: "1.04", FruitType.PEAR: "1.06", FruitType.CITRUS: "0.95", FruitType.STONE_FRUIT: "1.03",
    FruitType.GRAPE: "1.05", FruitType.AVOCADO: "0.96", FruitType.KIWIFRUIT: "1.02",
}
# Varieties priced on their own agreements for the whole season (beating the fruit's blank-variety price).
VARIETY_PREMIUM = [
    (FruitType.APPLE, "Cripps Pink", "1.25"), (FruitType.PEAR, "Forelle", "1.15"),
    (FruitType.CITRUS, "Eureka lemon", "1.20"), (FruitType.CITRUS, "Nadorcott", "1.30"),
    (FruitType.GRAPE, "Crimson Seedless", "1.12"), (FruitType.AVOCADO, "Hass", "1.10"),
]

REJECTION_REASONS = [
    "Codling moth damage above tolerance at intake inspection",
    "Fruit fly larvae found in sample",
    "Pulp temperature too high on arrival",
    "Residue test above the export MRL",
    "Bruising above 10% in sampled bins",
    "Sunburn above tolerance",
    "Decay found in sampled bins",
    "Wrong variety on the delivery note",
    "Undersize: below minimum count",
]
BATCH_NOTES = [
    "Driver reported a late pick-up at the farm.",
    "Bins from the top of the block.",
    "Starch test sample taken.",
    "Two bins damaged in transit.",
    "Delivered in the grower's own bins.",
    "Fruit wet on arrival, rain at harvest.",
    "Second load of the day.",
]
DEDUCTION_NOTES = ["Bin hire", "Transport from farm", "Cold storage levy", "Packing material", "Spray programme"]

# Status mix by age of the batch: (hours, {status: weight}); the first row whose hours exceed the age applies.
STATUS_BY_AGE = [
    (3, {"received": 85, "grading": 12, "rejected": 3}),
    (24, {"received": 45, "grading": 30, "packing": 17, "packed": 6, "rejected": 2}),
    (72, {"received": 8, "grading": 20, "packing": 30, "packed": 38, "dispatched": 2, "rejected": 2}),
    (168, {"received": 1, "grading": 4, "packing": 10, "packed": 45, "dispatched": 38, "rejected": 2}),
    (None, {"packed": 5, "dispatched": 93, "rejected": 2}),
]

# QC: how many fruit a sample counts, and the sugar (°Brix) and pressure (kg) ranges per fruit; None: not measured.
QC_SAMPLE_SIZES = (50, 100, 100, 100, 120, 150, 200)
QC_BRIX = {
    FruitType.APPLE: (10.5, 15.0), FruitType.PEAR: (10.0, 14.0), FruitType.CITRUS: (8.5, 13.0),
    FruitType.STONE_FRUIT: (10.0, 16.0), FruitType.GRAPE: (15.0, 21.0), FruitType.AVOCADO: None,
    FruitType.KIWIFRUIT: (6.2, 9.0),
}
QC_FIRMNESS = {
    FruitType.APPLE: (6.0, 9.5), FruitType.PEAR: (5.0, 8.0), FruitType.CITRUS: None,
    FruitType.STONE_FRUIT: (3.5, 7.0), FruitType.GRAPE: None, FruitType.AVOCADO: None,
    FruitType.KIWIFRUIT: (5.5, 8.5),
}
QC_NOTES = ["Sampled from three bins.", "Starch pattern read.", "Pulp temperature 6 °C.", "Count size mostly 100-120."]
