"""March 2026 at Acme (Africa/Johannesburg, UTC+2): the hand-worked scenario of the report tests.

Prices (apple, any variety unless said):
    class1 10.00 until 15 March, then 12.00      (a price change in the middle of the period)
    class2 6.00, class3 2.00, ungraded 5.00
    apple Pink Lady class1 15.00                  (beats the blank-variety 10.00)
    citrus class1 8.00 only; no pear price at all

Every batch weighs 4,000 kg gross, 500 kg tare: 3,500 kg net.

GA01 priced by pack-out      A0 20 Feb ungraded (before the period)           17,500.00
                             A1 10 Mar Gala 2000/1000/300 (+200 waste): 2000x10 + 1000x6 + 300x2 = 26,600.00
                             A3 12 Mar Pink Lady 1000/0/0 (+100 waste): 1000x15                = 15,000.00
                             A2 20 Mar Gala 1000/500/100 (+100 waste): 1000x12 + 500x6 + 100x2  = 15,200.00
                             paid: advance 10,000 on 25 Feb (before), advance 30,000 on 5 Mar,
                             deduction 1,500 on 25 Mar, adjustment -2,000 on 28 Mar, final 5,000 on 2 Apr (after)
GB01 priced ungraded         B1 3 Mar Fuji, no pack-out: 3500 x 5.00 = 17,500.00 (at packhouse PH2)
                             B2 4 Mar Gala, rejected: no value
                             paid: advance 17,400 on 15 Mar
GC01 unpriced                C1 6 Mar pear Forelle, no pack-out: no pear price -> unpriced
                             C2 7 Mar Gala, no pack-out: 17,500.00
                             C3 8 Mar citrus Navel 2000/500/0: class2 has no price -> unpriced (any missing price)
GD01 no activity             a batch on 10 Feb and a payment on 10 Apr, both outside the period
GE01 payments only           final 1,000 on 10 Mar
GF01 boundaries              F1 28 Feb 23:30 local (21:30 UTC)  out
                             F2  1 Mar 00:30 local (28 Feb 22:30 UTC) in
                             F3 31 Mar 23:30 local (21:30 UTC)  in
                             F4  1 Apr 00:30 local (31 Mar 22:30 UTC) out
                             each ungraded 17,500.00; paid: advance 35,000 on 31 Mar, advance 999 on 1 Apr (out)
"""

import datetime as dt
from types import SimpleNamespace

import pytest

from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory

from .helpers import intake, local, packout, pay, price, reject

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def march(acme):
    with acme:
        ph1, ph2 = PackhouseFactory(code="PH1"), PackhouseFactory(code="PH2")
        jan1 = dt.date(2026, 1, 1)
        price("apple", "class1", "10.00", jan1, dt.date(2026, 3, 15))
        price("apple", "class1", "12.00", dt.date(2026, 3, 16))
        price("apple", "class2", "6.00", jan1)
        price("apple", "class3", "2.00", jan1)
        price("apple", "ungraded", "5.00", jan1)
        price("apple", "class1", "15.00", jan1, variety="Pink Lady")
        price("citrus", "class1", "8.00", jan1)

        a, b, c, d, e, f = (GrowerFactory(code=code, name=f"Farm {code}")
                            for code in ("GA01", "GB01", "GC01", "GD01", "GE01", "GF01"))

        a0 = intake(a, ph1, local(2026, 2, 20))
        a1 = packout(intake(a, ph1, local(2026, 3, 10)), "2000", "1000", "300", "200")
        a3 = packout(intake(a, ph1, local(2026, 3, 12), variety="Pink Lady"), "1000", "0", "0", "2500")
        a2 = packout(intake(a, ph1, local(2026, 3, 20)), "1000", "500", "100", "1900")
        pay(a, "advance", "10000", dt.date(2026, 2, 25))
        pay(a, "advance", "30000", dt.date(2026, 3, 5))
        pay(a, "deduction", "1500", dt.date(2026, 3, 25), notes="Bin hire")
        pay(a, "adjustment", "-2000", dt.date(2026, 3, 28), notes="Advance of 5 March overstated")
        pay(a, "final", "5000", dt.date(2026, 4, 2))

        b1 = intake(b, ph2, local(2026, 3, 3), variety="Fuji")
        b2 = reject(intake(b, ph1, local(2026, 3, 4)))
        pay(b, "advance", "17400", dt.date(2026, 3, 15))

        c1 = intake(c, ph1, local(2026, 3, 6), fruit="pear", variety="Forelle")
        c2 = intake(c, ph1, local(2026, 3, 7))
        c3 = packout(intake(c, ph1, local(2026, 3, 8), fruit="citrus", variety="Navel"), "2000", "500", "0", "1000")

        intake(d, ph1, local(2026, 2, 10))
        pay(d, "advance", "800", dt.date(2026, 4, 10))

        pay(e, "final", "1000", dt.date(2026, 3, 10))

        f1 = intake(f, ph1, local(2026, 2, 28, 23, 30))
        f2 = intake(f, ph1, local(2026, 3, 1, 0, 30))
        f3 = intake(f, ph1, local(2026, 3, 31, 23, 30))
        f4 = intake(f, ph1, local(2026, 4, 1, 0, 30))
        pay(f, "advance", "35000", dt.date(2026, 3, 31))
        pay(f, "advance", "999", dt.date(2026, 4, 1))

    return SimpleNamespace(
        ph1=ph1, ph2=ph2, a=a, b=b, c=c, d=d, e=e, f=f,
        a0=a0, a1=a1, a2=a2, a3=a3, b1=b1, b2=b2, c1=c1, c2=c2, c3=c3, f1=f1, f2=f2, f3=f3, f4=f4,
    )
