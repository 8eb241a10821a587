"""The column-wise E.164 rules give exactly `phonenumbers`' answer for every key they decide.

Keys: libphonenumber's own example number of every region and type, written in
international, IDD and national form, each also one digit short, one digit long,
with a digit changed and with a stray trunk zero; plus random digit strings
behind common prefixes. Default regions cover a literal IDD (FR, GB), another
IDD (US: 011), Italian leading zeros (IT), a country code shared by several
regions picked by leading digits (GG, and RU/KZ via +7), and national prefixes
that are patterns, left to `phonenumbers` (BR).
"""

from __future__ import annotations

import random
import re

import phonenumbers
import polars as pl
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from ingestion import phones
from ingestion.e164_vectorised import decide
from ingestion.phones import to_e164

pytestmark = pytest.mark.unit

_FORMATTING = re.compile(r"[\s.\-()/\u00a0]")


def _keys() -> list[str]:
    rnd = random.Random(20261127)
    keys: set[str] = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            national = _FORMATTING.sub("", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
            digits = e164[1:]
            changed = rnd.randrange(1, len(digits))
            keys |= {
                e164,
                "00" + digits,
                "011" + digits,
                national,
                "0" + national,
                e164[:-1],
                e164 + "5",
                national[:-1],
                e164[:4] + "0" + e164[4:],
                "+" + digits[:changed] + str(rnd.randrange(10)) + digits[changed + 1 :],
            }
    for _ in range(4000):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(2, 19)))
        keys.add(rnd.choice(["", "+", "00", "0", "+33", "0033", "+44", "+7", "011", "39"]) + digits)
    return sorted(keys)


KEYS = _keys()


@pytest.mark.parametrize("region", ["FR", "GB", "US", "IT", "GG", "BR"])
def test_every_decided_key_gets_phonenumbers_answer(region: str) -> None:
    answers = decide(KEYS, region, min_group=1)
    decided = answers.filter("_decided")
    assert decided.height > len(KEYS) // 3, "the column-wise rules should decide most plain keys"
    wrong = [
        (key, got, want)
        for key, got in decided.select("_phone_key", "_e164").iter_rows()
        if got != (want := to_e164(key, region))
    ]
    assert wrong == []


def test_keys_outside_the_plain_shapes_are_left_to_phonenumbers() -> None:
    odd = [
        "",
        "++33612345678",
        "+0612345678",
        "33612345678",
        "0800FLOWERS",
        "+33 6",
        "+1",
        "06123456789012345678",
    ]
    answers = decide(odd, "FR", min_group=1)
    assert answers.filter("_decided").height == 0


def test_the_landing_contracts_number_shapes_are_all_decided() -> None:
    keys = ["+33612345678", "0033612345678", "0612345678", "+447400123456", "12345"]
    answers = decide(keys, "FR", min_group=1)
    assert answers["_decided"].all()
    assert dict(answers.select("_phone_key", "_e164").iter_rows()) == {
        "+33612345678": "+33612345678",
        "0033612345678": "+33612345678",
        "0612345678": "+33612345678",
        "+447400123456": "+447400123456",
        "12345": None,  # five digits: no French number
    }


def test_the_memo_takes_the_contracts_shapes_column_wise(monkeypatch) -> None:
    """landing.md: phone is free text (`+33 6 12 34 56 78`, `0033612345678`, `06.12.34.56.78`, empty).

    300 numbers in each shape, enough for the column-wise path: every row gets
    phonenumbers' answer, and only the empty number is left to phonenumbers.
    """
    numbers = [f"6{n:08d}" for n in range(10_000_000, 10_000_300)]
    shapes = [
        lambda d: f"+33 {d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:]}",
        lambda d: f"0033{d}",
        lambda d: f"0{d[0]}.{d[1:3]}.{d[3:5]}.{d[5:7]}.{d[7:]}",
    ]
    raw = [shape(d) for shape in shapes for d in numbers] + ["", "12345"]
    slow: list[str] = []
    parse_slowly = phones._parse_slowly
    monkeypatch.setattr(
        phones, "_parse_slowly", lambda keys, region: slow.extend(keys) or parse_slowly(keys, region)
    )
    out = phones.PhoneMemo("FR").add_e164(pl.DataFrame({"phone": raw}), "phone", "phone_e164")
    assert out["phone_e164"].to_list() == [to_e164(r, "FR") for r in raw]
    assert out["phone_e164"][0] == "+33610000000" and out["phone_e164"][300] == "+33610000000"
    assert slow == [""]
