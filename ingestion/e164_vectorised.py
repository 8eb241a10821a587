"""libphonenumber's parse + is_valid_number for plain digit keys, as Polars expressions over a whole column.

`phonenumbers.parse` is slow per call in Python, and a big launch has hundreds
of thousands of distinct numbers. Most of them are plain: `+<digits>`, `<IDD><digits>`
or national digits. For those, this module applies the same metadata (national
number patterns, possible lengths, national prefixes, leading digits) the same
way `phonenumbers` does, but column-wise in Rust regexes:

- `_maybe_extract_country_code` (plus sign or a literal IDD; 1–3 digit codes),
- `_maybe_strip_national_prefix_carrier_code` for national prefixes that are
  literal digits (or an alternation of them) without a transform rule,
- the possible-length test that decides whether the stripped number is kept,
- `is_valid_number`: the region picked from the code's list (leading digits or
  type match) and its `_number_type_helper` being other than UNKNOWN.

Anything else (letters, several plus signs, an IDD that is a pattern, numbers
starting with the default country code, non-geographic codes, national
prefixes with capture groups, lengths at the edges) is left undecided and
parsed by `phonenumbers` itself. `tests/test_e164_vectorised.py` compares both
on example numbers of every region and type and on random digit strings.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
import polars as pl
from phonenumbers.phonemetadata import REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata

_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN
_LITERAL = re.compile(r"[0-9]+")
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail")


def _full(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _desc_matches(nsn: pl.Expr, desc) -> pl.Expr:
    """`_is_number_matching_desc`: a possible length (when listed) and a full match of the pattern."""
    if desc is None or not desc.national_number_pattern:
        return pl.lit(False)
    matches = nsn.str.contains(_full(desc.national_number_pattern))
    if desc.possible_length:
        matches = matches & nsn.str.len_chars().is_in(list(desc.possible_length))
    return matches


def _type_known(nsn: pl.Expr, meta: PhoneMetadata) -> pl.Expr:
    """`_number_type_helper(nsn, meta) != UNKNOWN`."""
    typed = pl.lit(False)
    for name in _TYPES:
        typed = typed | _desc_matches(nsn, getattr(meta, name))
    typed = typed | _desc_matches(nsn, meta.fixed_line)
    if not meta.same_mobile_and_fixed_line_pattern:
        typed = typed | _desc_matches(nsn, meta.mobile)
    return _desc_matches(nsn, meta.general_desc) & typed


def _general_pattern_matches(number: pl.Expr, meta: PhoneMetadata) -> pl.Expr:
    """`_match_national_number(number, general_desc, False)`: the pattern only, no length test."""
    pattern = meta.general_desc.national_number_pattern if meta.general_desc else None
    return number.str.contains(_full(pattern)) if pattern else pl.lit(False)


@cache
def _national_prefixes(region: str) -> tuple[str, ...] | None:
    """The literal national prefixes of a region in the order `re.match` tries them; None when not literal."""
    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None or meta.national_prefix_transform_rule or not meta.general_desc.possible_length:
        return None
    if not meta.national_prefix_for_parsing:
        return ()
    parts = tuple(meta.national_prefix_for_parsing.split("|"))
    return parts if all(_LITERAL.fullmatch(p) for p in parts) else None


def _keep_stripped(number: pl.Expr, meta: PhoneMetadata) -> pl.Expr:
    """`_test_number_length(number, meta)` not in (TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY, INVALID_LENGTH)."""
    lengths = list(meta.general_desc.possible_length)
    local = list(meta.general_desc.possible_length_local_only)
    size = number.str.len_chars()
    possible = (size == lengths[0]) | (
        (size > lengths[0]) & ((size > lengths[-1]) | size.is_in(lengths[1:] or [-1]))
    )
    return possible & ~size.is_in(local or [-1])


def _national_significant(frame: pl.DataFrame, number: str, region: str) -> pl.DataFrame:
    """Adds `nsn`: the national number after `parse` strips a national prefix (when it keeps the
    stripped form). In two steps, so that the stripped number is computed once, not at each use."""
    meta = PhoneMetadata.metadata_for_region(region)
    whole = pl.col(number)
    stripped = whole
    for prefix in reversed(_national_prefixes(region) or ()):  # the first alternative that matches wins
        rest = whole.str.slice(len(prefix))
        refused = _general_pattern_matches(whole, meta) & ~_general_pattern_matches(rest, meta)
        stripped = (
            pl.when(whole.str.starts_with(prefix))
            .then(pl.when(refused).then(whole).otherwise(rest))
            .otherwise(stripped)
        )
    frame = frame.with_columns(_stripped=stripped)
    stripped = pl.col("_stripped")
    return frame.with_columns(
        nsn=pl.when(_keep_stripped(stripped, meta)).then(stripped).otherwise(whole)
    ).drop("_stripped")


def _valid(nsn: pl.Expr, country_code: int) -> pl.Expr:
    """`is_valid_number`: the region `region_code_for_number` picks, and the number's type there."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
    if len(regions) == 1:
        return _type_known(nsn, PhoneMetadata.metadata_for_region(regions[0]))
    valid, picked = pl.lit(False), pl.lit(False)
    for region in regions:
        meta = PhoneMetadata.metadata_for_region(region, None)
        if meta is None:
            continue
        if meta.leading_digits is not None:
            picks = nsn.str.contains(f"^(?:{meta.leading_digits})")
        else:
            picks = _type_known(nsn, meta)
        valid = pl.when(~picked & picks).then(_type_known(nsn, meta)).otherwise(valid)
        picked = picked | picks
    return valid


def _split_country_code(keys: pl.DataFrame, region: str) -> pl.DataFrame:
    """Columns `cc` (country code), `rest` (the number after it) and `region` (the default region for
    national numbers; null for international ones) for keys in a shape this module decides; others get a
    null `cc`."""
    meta = PhoneMetadata.metadata_for_region(region)
    idd = (
        meta.international_prefix
        if meta.international_prefix and _LITERAL.fullmatch(meta.international_prefix)
        else None
    )
    key = pl.col("_phone_key")
    plus = key.str.contains(r"^\+[1-9][0-9]{2,}$")
    dialled = key.str.contains(rf"^{idd}[1-9][0-9]{{2,}}$") if idd else pl.lit(False)
    digits = (
        pl.when(plus).then(key.str.slice(1)).when(dialled).then(key.str.slice(len(idd or ""))).otherwise(None)
    )
    codes = pl.Series([str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]).implode()
    # each step's columns are made once: an expression used several times within one
    # select is computed each time (eager selects share no subexpressions)
    keys = keys.with_columns(_digits=digits)
    digits = pl.col("_digits")
    code = pl.lit(None, pl.String)
    for size in (3, 2, 1):  # the shortest known code wins, as in `_extract_country_code`
        code = pl.when(digits.str.slice(0, size).is_in(codes)).then(digits.str.slice(0, size)).otherwise(code)
    national = (
        key.str.contains(r"^[0-9]{2,}$")
        & (~key.str.starts_with(idd) if idd else pl.lit(False))
        & ~key.str.starts_with(str(meta.country_code))
        & pl.lit(_national_prefixes(region) is not None)
    )
    keys = keys.with_columns(_code=code, _national=national)
    code, national = pl.col("_code"), pl.col("_national")
    return keys.with_columns(
        cc=pl.when(national).then(pl.lit(meta.country_code)).otherwise(code.cast(pl.Int32)),
        rest=pl.when(national).then(key).otherwise(digits.str.slice(code.str.len_chars())),
        region=pl.when(national).then(pl.lit(region)).otherwise(None),
    ).drop("_digits", "_code", "_national")


def decide(keys: list[str], region: str, min_group: int = 200) -> pl.DataFrame:
    """E.164 answers (`_phone_key`, `_e164`, `_decided`) for formatting-free keys; undecided ones need `phonenumbers`.

    Keys are decided per country code; a code with fewer than `min_group` keys is
    left to `phonenumbers`, which is faster than compiling its patterns.
    """
    frame = _split_country_code(pl.DataFrame({"_phone_key": keys}, schema={"_phone_key": pl.String}), region)
    parts = []
    for (cc, parse_region), group in frame.partition_by(["cc", "region"], as_dict=True).items():
        main = phonenumbers.region_code_for_country_code(cc) if cc is not None else None
        parse_region = parse_region or main
        if (
            cc is None
            or group.height < min_group
            or main == REGION_CODE_FOR_NON_GEO_ENTITY
            or _national_prefixes(parse_region) is None
        ):
            parts.append(group.select("_phone_key", _e164=pl.lit(None, pl.String), _decided=pl.lit(False)))
            continue
        rest, nsn = pl.col("rest"), pl.col("nsn")
        decidable = rest.str.len_chars().is_between(_MIN_NSN, _MAX_NSN) & nsn.str.len_chars().is_between(
            _MIN_NSN, _MAX_NSN
        )
        parts.append(
            _national_significant(group, "rest", parse_region).select(
                "_phone_key",
                _e164=pl.when(decidable & _valid(pl.col("nsn"), cc)).then(pl.lit(f"+{cc}") + pl.col("nsn")),
                _decided=decidable,
            )
        )
    if not parts:
        return pl.DataFrame(schema={"_phone_key": pl.String, "_e164": pl.String, "_decided": pl.Boolean})
    return pl.concat(parts)
