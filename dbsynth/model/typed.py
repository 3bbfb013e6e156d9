"""Values of the types the model does not learn: binary, JSON, XML, arrays, ranges, intervals, network
addresses, bit strings, money, years, MariaDB SET and geometry, PostgreSQL geometric, composite and text
search types, and SQLite's typeless columns.

:class:`ValueGenerator` finds the column's *form* (from its type family and native type, else from what its
values look like) and learns a few parameters of it; it generates valid values of that form in the Python
representation :mod:`dbsynth.read` gives copied values, so that the writer writes both alike:

======================  ===============================================================================
form                    values (frame representation)
======================  ===============================================================================
binary                  ``bytes`` of the observed lengths (BINARY(n): n bytes)
json                    ``dict``/``list``/scalars of the observed top-level kind; object keys only when
                        at least k rows hold them
xml                     ``str`` documents ``<root attr="..">words</root>`` (names held by k rows, else
                        ``item``)
array                   ``list`` of items of ``Column.item_type``, of the observed lengths
interval                ``pandas.Timedelta`` (interval family) or PostgreSQL interval text (``other``)
year                    ``int`` in the observed range (MariaDB YEAR)
mysql_bit               ``bytes`` of BIT(n) (big-endian, below 2**n)
bit                     ``str`` of '0'/'1' (PostgreSQL bit(n), bit varying(n))
money                   ``str`` as PostgreSQL prints money (``$1,234.50``)
inet, cidr              ``str`` (``10.1.2.3``, ``2001:db8::5/64``, ``192.168.7.0/24``)
macaddr, macaddr8       ``str`` (``08:00:2b:01:02:03``)
range                   ``str`` range literal (``[3,9)``, ``[2022-01-02,2022-02-01)``, ``empty``), lower <=
                        upper, of the element type of ``int4range`` ... ``tstzrange``
pg_geometry             ``str`` point, line, lseg, box, path, polygon, circle literals in the observed
                        bounding box
mysql_geometry          ``bytes``: MariaDB's geometry value (4-byte SRID + WKB) of the observed kinds, in
                        the observed bounding box
postgis                 ``str``: hex EWKB (PostGIS ``geometry``/``geography`` as text), likewise
tsvector, tsquery       ``str`` of lorem words (``'lorem':1 'ipsum':2``; ``'lorem' & 'ipsum'``)
composite               ``str`` record literal ``("f1","f2",...)`` with each field in its observed style
set                     ``str`` of SET members in declaration order (``Trailers,Commentaries``)
mixed                   SQLite typeless values: ``int``, ``float``, ``str``, ``bytes`` in the observed shares
======================  ===============================================================================

Stored parameters are shapes and summaries, never values: every number read off sorted values is a window
mean of k (:data:`~dbsynth.model.univariate.MIN_ROWS_PER_VALUE`) order statistics
(:func:`~dbsynth.model.univariate.private_quantiles`), and names (JSON keys, XML tags, SRIDs, prefix lengths)
only when k or more rows hold them. A column whose form is unknown gets NULL (a placeholder when NOT NULL)
and a note, said once per table.column (:func:`take_notes`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import ipaddress
import json
import logging
import math
import re
import struct
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..metadata import sdtypes as st
from ..metadata.records import Column
from .columns import (
    PlaceholderGenerator,
    TextGenerator,
    _null_mask,
    _words,
    fit_set,
    generate_set,
    placeholder,
    uuid_strings,
)

__all__ = ["FORMS", "ValueGenerator", "detect_form", "note", "take_notes"]

log = logging.getLogger("dbsynth")

#: k: a name is kept when at least this many rows hold it; every stored number is a mean of this many rows.
K = 5
#: Probability levels of the stored quantiles (lengths, amounts, coordinates).
_PROBS = np.linspace(0.0, 1.0, 11)
#: How many values the fit looks at (parameters are summaries: a sample is enough).
_FIT_ROWS = 20_000

# ---- notes: what could not be generated, once per table.column ----------------------------------------------
_notes: dict[tuple[str, str], str] = {}
_notes_lock = threading.Lock()


def note(table: str | None, column: str, text: str) -> None:
    """Record (and log once) that ``table.column`` is not generated as its type: ``text`` says what is done."""
    key = (table or "?", column)
    with _notes_lock:
        if key in _notes:
            return
        _notes[key] = f"table '{key[0]}', column '{column}': {text}"
    log.warning("%s", _notes[key])


def take_notes() -> list[str]:
    """The notes recorded since the last call (one per table.column), and forget them: the run report lists
    them (``column values not generated``)."""
    with _notes_lock:
        out = list(_notes.values())
        _notes.clear()
    return out


# ---- shared helpers -----------------------------------------------------------------------------------------
def _quantiles(values, probs: np.ndarray = _PROBS) -> list[float]:
    """Private quantiles (window means of k order statistics) of finite ``values``."""
    from .univariate import private_quantiles

    xs = np.sort(np.asarray([v for v in values if v is not None], dtype=float))
    xs = xs[np.isfinite(xs)]
    if not len(xs):
        return []
    return [float(v) for v in private_quantiles(xs, probs, K)]


def _draw(q: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values following quantiles ``q`` (at :data:`_PROBS`, or evenly spaced levels)."""
    if not q:
        return np.zeros(n)
    probs = np.linspace(0.0, 1.0, len(q))
    return np.interp(rng.random(n), probs, q)


def _lengths(q: list[float], n: int, rng: np.random.Generator, lo: int = 0, hi: int | None = None) -> np.ndarray:
    out = np.rint(_draw(q, n, rng)).astype(np.int64)
    out = np.maximum(out, lo)
    return np.minimum(out, hi) if hi is not None else out


def _shares(counter: Counter, total: int, keep_all: bool = False) -> dict[str, float]:
    """Shares of the labels held by k rows or more (all when ``keep_all``: kinds are types, not values)."""
    kept = {str(k): v for k, v in counter.items() if keep_all or v >= K}
    s = sum(kept.values())
    return {k: v / s for k, v in kept.items()} if s else {}


def _pick(shares: dict[str, float], n: int, rng: np.random.Generator, default: str) -> np.ndarray:
    if not shares:
        return np.full(n, default, dtype=object)
    labels = list(shares)
    p = np.asarray([shares[k] for k in labels], dtype=float)
    return np.asarray(labels, dtype=object)[rng.choice(len(labels), size=n, p=p / p.sum())]


def _lorem(q: list[float], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` lorem-ipsum texts whose lengths follow quantiles ``q`` (vectorised: :class:`TextGenerator`)."""
    if n == 0:
        return []
    from .columns import QUANTILE_PROBS

    gen = TextGenerator(Column(name="lorem", type=st.STRING, nullable=False))
    gen.char_class, gen.case = "words", "lower"
    levels = np.linspace(0.0, 1.0, len(q)) if q else np.array([0.0, 1.0])
    gen.quantiles = [float(v) for v in np.interp(QUANTILE_PROBS, levels, q or [8.0, 8.0])]
    return gen.generate(n, rng).astype(object).tolist()


def _native_base(column: Column) -> str:
    """The native type's name, lower case, without arguments (``bit varying(16)`` -> ``bit varying``)."""
    return (column.native_type or "").lower().split("(")[0].strip()


def _int_arg(column: Column) -> int | None:
    m = re.search(r"\((\d+)\)", column.native_type or "")
    return int(m.group(1)) if m else None


def _num(v: float) -> str:
    """A coordinate or amount as text: up to 6 decimals, no exponent surprises for ordinary values."""
    r = round(float(v), 6)
    if r == int(r) and abs(r) < 1e15:
        return str(int(r))
    return repr(r)


# ---- forms ---------------------------------------------------------------------------------------------------
Fit = Callable[[list, Column], dict]
Gen = Callable[[dict, int, np.random.Generator, Column], list]
FORMS: dict[str, tuple[Fit, Gen]] = {}


def _form(name: str):
    def register(pair):
        FORMS[name] = pair()
        return pair
    return register


# binary ----------------------------------------------------------------------------------------------------------
def _fit_binary(values: list, column: Column) -> dict:
    fixed = _int_arg(column) if _native_base(column) == "binary" else None
    return {"len": _quantiles([len(bytes(v)) for v in values]), "fixed": fixed}


def _gen_binary(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    if p.get("fixed"):
        lengths = np.full(n, int(p["fixed"]))
    else:
        lengths = _lengths(p.get("len") or [16.0], n, rng, 0, column.length)
    return _chunks(rng.bytes(int(lengths.sum())), lengths)


def _chunks(buffer: bytes, lengths: np.ndarray) -> list[bytes]:
    """``buffer`` cut into pieces of ``lengths`` (one random buffer for a batch: rng.bytes per row is slow)."""
    ends = np.cumsum(lengths).tolist()
    return [buffer[e - k:e] for k, e in zip(lengths.tolist(), ends)]


FORMS["binary"] = (_fit_binary, _gen_binary)


# json ------------------------------------------------------------------------------------------------------------
def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, (list, tuple)):
        return "array"
    return "string"


def _json_shape(values: list, depth: int = 0) -> dict:
    """The shape of JSON ``values``: kind shares, and per kind what generating needs (no values)."""
    kinds = Counter(_kind(v) for v in values)
    shape: dict[str, Any] = {"kinds": _shares(kinds, len(values), keep_all=True)}
    nums = [float(v) for v in values if _kind(v) in ("int", "float")]
    if nums:
        shape["num"] = _quantiles(nums)
    strs = [v for v in values if isinstance(v, str)]
    if strs:
        shape["str"] = _quantiles([len(s) for s in strs])
    bools = [v for v in values if isinstance(v, bool)]
    if bools:
        shape["true"] = float(np.mean(bools))
    if depth >= 4:
        shape["kinds"] = {k: v for k, v in shape["kinds"].items() if k not in ("object", "array")} or {"null": 1.0}
        return shape
    objs = [v for v in values if isinstance(v, dict)]
    if objs:
        held = Counter(k for o in objs for k in o)
        shape["keys"] = {str(k): {"p": c / len(objs), "shape": _json_shape([o[k] for o in objs if k in o], depth + 1)}
                         for k, c in held.items() if c >= K}
    arrs = [v for v in values if isinstance(v, (list, tuple))]
    if arrs:
        shape["len"] = _quantiles([len(a) for a in arrs])
        items = [i for a in arrs for i in a]
        shape["items"] = _json_shape(items, depth + 1) if items else {"kinds": {"null": 1.0}}
    return shape


def _by_kind(kinds: np.ndarray, n: int, values: Callable[[str, int], list]) -> list:
    """One value per row: the rows of each kind get ``values(kind, how many)``, in their order."""
    out: list[Any] = [None] * n
    for kind in set(kinds.tolist()):
        rows = np.flatnonzero(kinds == kind)
        for i, v in zip(rows.tolist(), values(kind, len(rows))):
            out[i] = v
    return out


def _json_values(shape: dict, n: int, rng: np.random.Generator) -> list:
    kinds = _pick(shape.get("kinds") or {}, n, rng, "null")
    return _by_kind(kinds, n, lambda kind, m: _json_kind(shape, kind, m, rng))


def _json_kind(shape: dict, kind: str, m: int, rng: np.random.Generator) -> list:
    """``m`` JSON values of one kind (``int``, ``float``, ``bool``, ``string``, ``object``, ``array``, null)."""
    vals: list[Any]
    if kind == "int":
        vals = [int(v) for v in np.rint(_draw(shape.get("num") or [0.0], m, rng))]
    elif kind == "float":
        vals = [round(float(v), 6) for v in _draw(shape.get("num") or [0.0], m, rng)]
    elif kind == "bool":
        vals = (rng.random(m) < shape.get("true", 0.5)).tolist()
    elif kind == "string":
        vals = _lorem(shape.get("str") or [8.0], m, rng)
    elif kind == "object":
        vals = [{} for _ in range(m)]
        for key, spec in (shape.get("keys") or {}).items():
            has = np.flatnonzero(rng.random(m) < spec["p"])
            sub = _json_values(spec["shape"], len(has), rng)
            for i, v in zip(has.tolist(), sub):
                vals[i][key] = v
    elif kind == "array":
        lengths = _lengths(shape.get("len") or [0.0], m, rng)
        flat = _json_values(shape.get("items") or {"kinds": {"null": 1.0}}, int(lengths.sum()), rng)
        ends = np.cumsum(lengths)
        vals = [flat[e - k:e] for k, e in zip(lengths.tolist(), ends.tolist())]
    else:
        vals = [None] * m
    return vals


def _parse_json(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v).decode("utf-8", "replace")
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _fit_json(values: list, column: Column) -> dict:
    return {"shape": _json_shape([_parse_json(v) for v in values])}


def _gen_json(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    shape = p.get("shape") or {"kinds": {"object": 1.0}}
    out = _json_values(shape, n, rng)
    if not column.nullable:  # JSON null is a value, but a NOT NULL column reads it back as SQL NULL nowhere
        out = [{} if v is None else v for v in out]
    return out


FORMS["json"] = (_fit_json, _gen_json)


# xml -------------------------------------------------------------------------------------------------------------
_TAG = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?<([A-Za-z_][\w.\-]*)"  # an optional XML declaration, then the root's name
    r"((?:\s+[\w.\-:]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>"  # its attributes
)
_ATTR = re.compile(r"([\w.\-:]+)\s*=")


def _fit_xml(values: list, column: Column) -> dict:
    roots: Counter = Counter()
    attrs: Counter = Counter()
    lengths = []
    for v in values:
        text = v if isinstance(v, str) else bytes(v).decode("utf-8", "replace")
        m = _TAG.match(text)
        if m:
            roots[m.group(1)] += 1
            attrs.update(set(_ATTR.findall(m.group(2) or "")))
        lengths.append(len(re.sub(r"<[^>]*>", "", text)))
    return {"roots": _shares(roots, len(values)), "attrs": sorted(a for a, c in attrs.items() if c >= K),
            "text": _quantiles(lengths)}


def _gen_xml(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    roots = _pick(p.get("roots") or {}, n, rng, "item")
    texts = _lorem(p.get("text") or [12.0], n, rng)
    attrs = p.get("attrs") or []
    out = []
    for root, text in zip(roots.tolist(), texts):
        a = "".join(f' {name}="{int(rng.integers(1, 10_000))}"' for name in attrs)
        out.append(f"<{root}{a}>{text}</{root}>" if text else f"<{root}{a}/>")
    return out


FORMS["xml"] = (_fit_xml, _gen_xml)


# arrays ------------------------------------------------------------------------------------------------------------
def _fit_array(values: list, column: Column) -> dict:
    lists = [list(v) for v in values if isinstance(v, (list, tuple, np.ndarray))]
    items = [i for a in lists for i in a]
    present = [i for i in items if i is not None]
    item = Column(name=column.name, type=column.item_type or st.STRING, nullable=True)
    p: dict[str, Any] = {"len": _quantiles([len(a) for a in lists]),
                         "null_items": (len(items) - len(present)) / len(items) if items else 0.0}
    p["items"] = _fit_items(present, item)
    return p


def _fit_items(present: list, item: Column) -> dict:
    fam = item.type
    if fam in (st.INTEGER, st.FLOAT, st.DECIMAL):
        return {"num": _quantiles([float(v) for v in present])}
    if fam == st.BOOL:
        return {"true": float(np.mean([bool(v) for v in present])) if present else 0.5}
    if fam in (st.DATE, st.TIMESTAMP):
        stamps = pd.to_datetime(pd.Series(present, dtype=object), errors="coerce", utc=True).dropna()
        return {"num": _quantiles((stamps.astype("int64") // 10**6).tolist())}
    if fam in (st.UUID, st.JSON, st.BINARY):
        return {}
    gen = TextGenerator(Column(name=item.name, type=st.STRING, nullable=False))
    gen.fit(pd.Series([str(v) for v in present], dtype=object))
    return {"text": gen.state()}


def _gen_items(p: dict, item: Column, m: int, rng: np.random.Generator) -> list:
    fam = item.type
    if fam == st.INTEGER:
        return [int(v) for v in np.rint(_draw(p.get("num") or [0.0], m, rng))]
    if fam in (st.FLOAT, st.DECIMAL):
        return [round(float(v), 6) for v in _draw(p.get("num") or [0.0], m, rng)]
    if fam == st.BOOL:
        return (rng.random(m) < p.get("true", 0.5)).tolist()
    if fam in (st.DATE, st.TIMESTAMP):
        us = np.rint(_draw(p.get("num") or [946684800e6], m, rng)).astype("int64")
        stamps = pd.to_datetime(us, unit="us")
        return [s.date().isoformat() if fam == st.DATE else s.isoformat(sep=" ") for s in stamps]
    if fam == st.UUID:
        return uuid_strings(rng, m).tolist()
    if fam == st.JSON:
        return [{} for _ in range(m)]
    if fam == st.BINARY:
        return [rng.bytes(8) for _ in range(m)]
    gen = TextGenerator(Column(name=item.name, type=st.STRING, nullable=False))
    if p.get("text"):
        gen.load_state(p["text"])
    return gen.generate(m, rng).astype(object).tolist() if m else []


def _gen_array(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    item = Column(name=column.name, type=column.item_type or st.STRING, nullable=True)
    lengths = _lengths(p.get("len") or [2.0], n, rng)
    flat = _gen_items(p.get("items") or {}, item, int(lengths.sum()), rng)
    nulls = rng.random(len(flat)) < float(p.get("null_items", 0.0))
    flat = [None if z else v for v, z in zip(flat, nulls.tolist())]
    ends = np.cumsum(lengths)
    return [flat[e - k:e] for k, e in zip(lengths.tolist(), ends.tolist())]


FORMS["array"] = (_fit_array, _gen_array)


# intervals ---------------------------------------------------------------------------------------------------------
_IV_UNITS = {"year": 365.25 * 86400, "mon": 30 * 86400, "day": 86400, "week": 7 * 86400, "hour": 3600,
             "min": 60, "sec": 1}
_IV_PART = re.compile(
    r"([+-]?\d+(?:\.\d+)?)\s*(years?|mons?|months?|days?|weeks?|hours?|mins?|minutes?|secs?|seconds?)"
)
_IV_CLOCK = re.compile(r"([+-])?(\d+):(\d\d)(?::(\d\d(?:\.\d+)?))?")


def interval_seconds(v: Any) -> float | None:
    """Seconds of an interval value: a ``timedelta``/``Timedelta``, a number, or PostgreSQL interval text
    (``1 year 2 mons 3 days 04:05:06.5``; a month counts 30 days, a year 365.25). None when not one."""
    if v is None:
        return None
    if isinstance(v, (pd.Timedelta, _dt.timedelta)):
        return v.total_seconds()
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, np.timedelta64):
        return pd.Timedelta(v).total_seconds()
    text = str(v).strip().lower()
    total, found = 0.0, False
    for num, unit in _IV_PART.findall(text):
        key = next(k for k in _IV_UNITS if unit.startswith(k))
        total += float(num) * _IV_UNITS[key]
        found = True
    clock = _IV_CLOCK.search(_IV_PART.sub("", text))
    if clock:
        sign = -1.0 if clock.group(1) == "-" else 1.0
        total += sign * (int(clock.group(2)) * 3600 + int(clock.group(3)) * 60 + float(clock.group(4) or 0))
        found = True
    return total if found else None


def interval_text(seconds: float) -> str:
    """PostgreSQL interval text for ``seconds`` (``3 days 04:05:06.500000``; negative: every part negative)."""
    neg = seconds < 0
    us = round(abs(seconds) * 1e6)
    days, rest = divmod(us, 86400 * 10**6)
    hh, rest = divmod(rest, 3600 * 10**6)
    mm, rest = divmod(rest, 60 * 10**6)
    ss, frac = divmod(rest, 10**6)
    sign = "-" if neg else ""
    return f"{sign}{days} days {sign}{hh:02d}:{mm:02d}:{ss:02d}.{frac:06d}"


def _fit_interval(values: list, column: Column) -> dict:
    secs = [s for s in (interval_seconds(v) for v in values) if s is not None]
    return {"secs": _quantiles(secs, np.linspace(0, 1, 21))}


def _gen_interval(p: dict, n: int, rng: np.random.Generator, column: Column) -> list | pd.Series:
    secs = np.round(_draw(p.get("secs") or [0.0], n, rng), 6)
    if column.type == st.INTERVAL:
        return pd.Series(pd.to_timedelta(secs, unit="s"))
    return [interval_text(float(s)) for s in secs]


FORMS["interval"] = (_fit_interval, _gen_interval)


# year (MariaDB) ------------------------------------------------------------------------------------------------------
def _fit_year(values: list, column: Column) -> dict:
    years = [int(v) for v in values if str(v).lstrip("-").isdigit()]
    zeros = sum(1 for y in years if y == 0)  # MariaDB's zero year, kept when k rows hold it
    return {"q": _quantiles([y for y in years if y != 0]), "zero": zeros / len(years) if zeros >= K else 0.0}


def _gen_year(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    years = np.clip(np.rint(_draw(p.get("q") or [1970.0, 2030.0], n, rng)), 1901, 2155).astype(int)
    zero = rng.random(n) < float(p.get("zero", 0.0))
    return [0 if z else int(y) for y, z in zip(years.tolist(), zero.tolist())]


FORMS["year"] = (_fit_year, _gen_year)


# bit strings ----------------------------------------------------------------------------------------------------------
def _fit_mysql_bit(values: list, column: Column) -> dict:
    width = _int_arg(column) or max([len(bytes(v)) for v in values] or [1]) * 8
    ones = [int.from_bytes(bytes(v), "big") for v in values]
    return {"width": width, "q": _quantiles(ones)}


def _gen_mysql_bit(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    width = int(p.get("width") or 1)
    top = (1 << width) - 1
    nbytes = max(1, (width + 7) // 8)
    if width <= 52 and p.get("q"):
        vals = np.clip(np.rint(_draw(p["q"], n, rng)), 0, top).astype(np.int64).tolist()
    else:
        vals = [int.from_bytes(rng.bytes(nbytes), "big") & top for _ in range(n)]
    return [int(v).to_bytes(nbytes, "big") for v in vals]


FORMS["mysql_bit"] = (_fit_mysql_bit, _gen_mysql_bit)


def _fit_bit(values: list, column: Column) -> dict:
    varying = "varying" in (column.native_type or "").lower() or _native_base(column) == "varbit"
    return {"n": _int_arg(column), "varying": varying, "len": _quantiles([len(str(v)) for v in values])}


def _gen_bit(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    width = p.get("n")
    if p.get("varying") or not width:
        lengths = _lengths(p.get("len") or [float(width or 8)], n, rng, 0 if p.get("varying") else 1, width)
    else:
        lengths = np.full(n, int(width))
    bits = rng.integers(0, 2, size=int(lengths.sum())).astype(np.uint8) + ord("0")
    text = bits.tobytes().decode("ascii")
    ends = np.cumsum(lengths)
    return [text[e - k:e] for k, e in zip(lengths.tolist(), ends.tolist())]


FORMS["bit"] = (_fit_bit, _gen_bit)


# money ---------------------------------------------------------------------------------------------------------------
_MONEY = re.compile(r"^\s*(-)?\s*([^\d\s.,-]*)\s*(-)?\s*([\d.,]+)\s*([^\d\s.,]*)\s*$")


def _money_amount(v: Any) -> tuple[float, str, str] | None:
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v), "", ""
    m = _MONEY.match(str(v))
    if not m:
        return None
    digits = m.group(4).replace(",", "")
    try:
        amount = float(digits)
    except ValueError:
        return None
    return (-amount if (m.group(1) or m.group(3)) else amount), m.group(2), m.group(5)


def _fit_money(values: list, column: Column) -> dict:
    parsed = [a for a in (_money_amount(v) for v in values) if a is not None]
    prefixes = Counter(a[1] for a in parsed)
    suffixes = Counter(a[2] for a in parsed)
    grouped = any("," in str(v) for v in values)
    return {"q": _quantiles([a[0] for a in parsed], np.linspace(0, 1, 21)),
            "prefix": prefixes.most_common(1)[0][0] if parsed else "",
            "suffix": suffixes.most_common(1)[0][0] if parsed else "", "grouped": grouped}


def _gen_money(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    amounts = np.round(_draw(p.get("q") or [0.0, 100.0], n, rng), 2)
    pre, suf = p.get("prefix", ""), p.get("suffix", "")
    fmt = "{:,.2f}" if p.get("grouped") else "{:.2f}"
    return [("-" if a < 0 else "") + pre + fmt.format(abs(a)) + suf for a in amounts.tolist()]


FORMS["money"] = (_fit_money, _gen_money)


# network addresses ----------------------------------------------------------------------------------------------------
def _fit_inet(values: list, column: Column) -> dict:
    fams: Counter = Counter()
    prefixes: Counter = Counter()
    for v in values:
        try:
            iface = ipaddress.ip_interface(str(v))
        except ValueError:
            continue
        fams[str(iface.version)] += 1
        prefixes[f"{iface.version}/{iface.network.prefixlen}"] += 1
    return {"family": _shares(fams, len(values), keep_all=True), "prefix": _shares(prefixes, len(values))}


def _gen_inet(p: dict, n: int, rng: np.random.Generator, column: Column, cidr: bool = False) -> list:
    fams = _pick(p.get("family") or {}, n, rng, "4")
    out: list[str | None] = [None] * n
    for fam in ("4", "6"):
        rows = np.flatnonzero(fams == fam)
        m = len(rows)
        if not m:
            continue
        bits = 32 if fam == "4" else 128
        shares = {k.split("/")[1]: v for k, v in (p.get("prefix") or {}).items() if k.startswith(fam + "/")}
        default = str(24 if cidr and bits == 32 else 64 if cidr else bits)
        prefix = _pick(shares, m, rng, default).astype(np.int64)
        # 16-bit groups (v6) or octets (v4); private 10.0.0.0/8 and documentation 2001:db8::/32 ranges only,
        # never a real public host
        width, size = (4, 8) if bits == 32 else (8, 16)
        parts = rng.integers(0, 1 << size, size=(m, width), dtype=np.int64)
        if bits == 32:
            parts[:, 0] = 10
        else:
            parts[:, 0], parts[:, 1] = 0x2001, 0x0DB8
        if cidr:  # the network address: host bits zero
            kept = np.clip(prefix[:, None] - size * np.arange(width)[None, :], 0, size)
            parts &= ((1 << size) - 1) ^ ((1 << (size - kept)) - 1)
        sep, fmt = (".", "{:d}") if bits == 32 else (":", "{:x}")
        texts = [sep.join(fmt.format(x) for x in row) for row in parts.tolist()]
        for i, text, pre in zip(rows.tolist(), texts, prefix.tolist()):
            out[i] = text if (pre == bits and not cidr) else f"{text}/{pre}"
    return out


FORMS["inet"] = (_fit_inet, _gen_inet)
FORMS["cidr"] = (_fit_inet, lambda p, n, rng, column: _gen_inet(p, n, rng, column, cidr=True))


def _fit_mac(values: list, column: Column) -> dict:
    return {"bytes": 8 if _native_base(column) == "macaddr8" else 6}


def _gen_mac(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    width = int(p.get("bytes", 6))
    raw = np.frombuffer(rng.bytes(width * n), dtype=np.uint8).reshape(n, width).copy()
    raw[:, 0] = (raw[:, 0] & 0xFC) | 0x02  # locally administered, unicast: no real vendor's address
    return [":".join(f"{b:02x}" for b in row) for row in raw.tolist()]


FORMS["macaddr"] = (_fit_mac, _gen_mac)


# ranges ---------------------------------------------------------------------------------------------------------------
_RANGE = re.compile(r'^\s*([\[(])\s*("(?:[^"\\]|\\.)*"|[^,"]*)\s*,\s*("(?:[^"\\]|\\.)*"|[^,"\])]*)\s*([\])])\s*$')
_RANGE_ELEMENT = {"int4range": "int", "int8range": "int", "numrange": "num", "daterange": "date",
                  "tsrange": "ts", "tstzrange": "tstz", "int4multirange": "int"}


def _range_element(column: Column, sample: list) -> str:
    base = _native_base(column)
    if base in _RANGE_ELEMENT:
        return _RANGE_ELEMENT[base]
    for v in sample:
        m = _RANGE.match(str(v))
        if m:
            b = (m.group(2) or m.group(3)).strip('"')
            if re.match(r"^-?\d+$", b):
                return "int"
            if re.match(r"^-?[\d.]+(e[+-]?\d+)?$", b, re.IGNORECASE):
                return "num"
            if re.match(r"^\d{4}-\d\d-\d\d$", b):
                return "date"
            if re.match(r"^\d{4}-\d\d-\d\d[ T]", b):
                return "tstz" if re.search(r"[+-]\d\d(:?\d\d)?$", b) else "ts"
    return "int"


def _bound_number(text: str, element: str) -> float | None:
    text = text.strip().strip('"')
    if not text or text.lower() in ("infinity", "-infinity"):
        return None
    try:
        if element in ("int", "num"):
            return float(text)
        stamp = pd.Timestamp(text)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.value / 1e9  # seconds since the epoch
    except (ValueError, OverflowError):
        return None


def _fit_range(values: list, column: Column) -> dict:
    element = _range_element(column, values[:50])
    empty = lower_inf = upper_inf = 0
    lows, widths = [], []
    for v in values:
        text = str(v).strip()
        if text.lower() == "empty":
            empty += 1
            continue
        m = _RANGE.match(text)
        if not m:
            continue
        lo, hi = _bound_number(m.group(2), element), _bound_number(m.group(3), element)
        lower_inf += lo is None
        upper_inf += hi is None
        if lo is not None:
            lows.append(lo)
        if lo is not None and hi is not None:
            widths.append(max(hi - lo, 0.0))
    total = max(len(values), 1)
    return {"element": element, "empty": empty / total, "lower_inf": lower_inf / total,
            "upper_inf": upper_inf / total, "low": _quantiles(lows), "width": _quantiles(widths)}


def _bound_text(x: float, element: str) -> str:
    if element == "int":
        return str(round(x))
    if element == "num":
        return _num(x)
    stamp = pd.Timestamp(round(x * 1e6), unit="us")
    if element == "date":
        return stamp.date().isoformat()
    text = stamp.isoformat(sep=" ")
    return f'"{text}+00"' if element == "tstz" else f'"{text}"'


def _gen_range(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    element = p.get("element", "int")
    unit = 86400.0 if element in ("date",) else 1.0
    lows = _draw(p.get("low") or [0.0, 100.0], n, rng)
    widths = np.maximum(_draw(p.get("width") or [1.0, 10.0], n, rng), 0.0)
    if element == "date":  # whole days, and a date range's upper end past its lower one
        lows = np.floor(lows / unit) * unit
        widths = np.maximum(np.rint(widths / unit), 1) * unit
    elif element == "int":
        lows, widths = np.rint(lows), np.maximum(np.rint(widths), 1)
    u = rng.random((3, n))
    out = []
    for i in range(n):
        if u[0, i] < p.get("empty", 0.0):
            out.append("empty")
            continue
        lo = "" if u[1, i] < p.get("lower_inf", 0.0) else _bound_text(lows[i], element)
        hi = "" if u[2, i] < p.get("upper_inf", 0.0) else _bound_text(lows[i] + widths[i], element)
        out.append(f"[{lo},{hi})")
    return out


FORMS["range"] = (_fit_range, _gen_range)


# PostgreSQL geometric types -------------------------------------------------------------------------------------------
_NUM = r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*"
_PT = rf"\({_NUM},{_NUM}\)"
_PG_SHAPES = [
    ("circle", re.compile(rf"^<{_PT},{_NUM}>$")),
    ("point", re.compile(rf"^{_PT}$")),
    ("line", re.compile(rf"^\{{{_NUM},{_NUM},{_NUM}\}}$")),
    ("lseg", re.compile(rf"^\[{_PT},{_PT}\]$")),
    ("box", re.compile(rf"^{_PT},{_PT}$")),
    ("open_path", re.compile(rf"^\[{_PT}(?:,{_PT})*\]$")),
    ("polygon", re.compile(rf"^\({_PT}(?:,{_PT})*\)$")),
]
_PG_GEOMETRIC = {"point", "line", "lseg", "box", "path", "polygon", "circle"}
_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _pg_shape(text: str) -> str | None:
    for name, pattern in _PG_SHAPES:
        if pattern.match(text.strip()):
            return name
    return None


def _fit_pg_geometry(values: list, column: Column) -> dict:
    shapes: Counter = Counter()
    xs, ys, radii, counts = [], [], [], []
    for v in values:
        text = str(v).strip()
        shape = _pg_shape(text)
        if shape is None:
            continue
        shapes[shape] += 1
        nums = [float(x) for x in _FLOAT.findall(text)]
        if shape == "circle":
            radii.append(nums[2])
            nums = nums[:2]
        if shape == "line":
            continue
        xs.extend(nums[0::2])
        ys.extend(nums[1::2])
        counts.append(len(nums) // 2)
    base = _native_base(column)
    shape = shapes.most_common(1)[0][0] if shapes else {"path": "polygon"}.get(base, base or "point")
    if base == "path" and shape == "polygon":
        shape = "closed_path"
    return {"shape": shape, "x": _quantiles(xs, np.array([0.0, 1.0])), "y": _quantiles(ys, np.array([0.0, 1.0])),
            "r": _quantiles(radii), "n": _quantiles(counts)}


def _gen_pg_geometry(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    shape = p.get("shape", "point")
    x0, x1 = (p.get("x") or [0.0, 1.0])[0], (p.get("x") or [0.0, 1.0])[-1]
    y0, y1 = (p.get("y") or [0.0, 1.0])[0], (p.get("y") or [0.0, 1.0])[-1]

    def pts(m: int, k: int) -> np.ndarray:
        """``m`` rows of ``k`` random points in the box, rounded to 6 decimals: shape (m, k, 2)."""
        xy = np.stack([rng.uniform(x0, x1, (m, k)), rng.uniform(y0, y1, (m, k))], axis=-1)
        return np.round(xy, 6)

    def fmt(rows: np.ndarray) -> list[str]:
        return [",".join(f"({x!r},{y!r})" for x, y in row) for row in rows.tolist()]

    if shape == "point":
        return fmt(pts(n, 1))
    if shape == "circle":
        radii = np.round(np.maximum(_draw(p.get("r") or [1.0], n, rng), 0.0), 6).tolist()
        return [f"<{c},{r!r}>" for c, r in zip(fmt(pts(n, 1)), radii)]
    if shape == "line":
        ab = pts(n, 2)
        a, b = ab[:, 0], ab[:, 1].copy()
        same = np.all(np.isclose(a, b), axis=1)
        b[same] += 1.0
        # the line through a and b: A x + B y + C = 0
        A, B = b[:, 1] - a[:, 1], a[:, 0] - b[:, 0]
        C = -(A * a[:, 0] + B * a[:, 1])
        return [f"{{{_num(u)},{_num(v)},{_num(w)}}}" for u, v, w in zip(A.tolist(), B.tolist(), C.tolist())]
    if shape == "lseg":
        return [f"[{t}]" for t in fmt(pts(n, 2))]
    if shape == "box":
        return fmt(pts(n, 2))
    # polygon, closed or open path: vertices sorted by angle around their centre (a simple polygon)
    least = 2 if shape == "open_path" else 3
    ks = np.maximum(np.rint(_draw(p.get("n") or [4.0], n, rng)).astype(np.int64), least)
    out: list[str] = [""] * n
    for k in np.unique(ks).tolist():
        rows = np.flatnonzero(ks == k)
        v = pts(len(rows), k)
        c = v.mean(axis=1, keepdims=True)
        order = np.argsort(np.arctan2(v[..., 1] - c[..., 1], v[..., 0] - c[..., 0]), axis=1)
        v = np.take_along_axis(v, order[..., None], axis=1)
        for i, text in zip(rows.tolist(), fmt(v)):
            out[i] = f"[{text}]" if shape == "open_path" else f"({text})"
    return out


FORMS["pg_geometry"] = (_fit_pg_geometry, _gen_pg_geometry)


# MariaDB/MySQL geometry (SRID + WKB) ----------------------------------------------------------------------------------
_WKB_KINDS = {1: "point", 2: "linestring", 3: "polygon", 4: "multipoint", 5: "multilinestring", 6: "multipolygon",
              7: "geometrycollection"}
_WKB_CODES = {v: k for k, v in _WKB_KINDS.items()}


def _wkb_header(v: Any) -> tuple[int, int] | None:
    """(SRID, geometry type) of a MariaDB geometry value, or None when ``v`` is not one."""
    if not isinstance(v, (bytes, bytearray, memoryview)):
        return None
    b = bytes(v)
    if len(b) < 9 or b[4] not in (0, 1):
        return None
    srid = struct.unpack("<I", b[:4])[0]
    kind = struct.unpack("<I" if b[4] == 1 else ">I", b[5:9])[0]
    return (srid, kind) if kind in _WKB_KINDS else None


def _wkb_coords(b: bytes) -> list[float]:
    """Every coordinate of a little-endian WKB geometry, in order (a scan of the doubles: enough for bounds)."""
    coords: list[float] = []

    def walk(off: int) -> int:
        little = b[off] == 1
        e = "<" if little else ">"
        kind = struct.unpack(e + "I", b[off + 1:off + 5])[0]
        off += 5
        if kind == 1:
            coords.extend(struct.unpack(e + "2d", b[off:off + 16]))
            return off + 16
        if kind == 2:
            (k,) = struct.unpack(e + "I", b[off:off + 4])
            coords.extend(struct.unpack(e + f"{2 * k}d", b[off + 4:off + 4 + 16 * k]))
            return off + 4 + 16 * k
        if kind == 3:
            (rings,) = struct.unpack(e + "I", b[off:off + 4])
            off += 4
            for _ in range(rings):
                (k,) = struct.unpack(e + "I", b[off:off + 4])
                coords.extend(struct.unpack(e + f"{2 * k}d", b[off + 4:off + 4 + 16 * k]))
                off += 4 + 16 * k
            return off
        (parts,) = struct.unpack(e + "I", b[off:off + 4])
        off += 4
        for _ in range(parts):
            off = walk(off)
        return off

    with contextlib.suppress(struct.error, IndexError):  # a truncated value keeps the coordinates read so far
        walk(4)
    return coords


def _fit_mysql_geometry(values: list, column: Column) -> dict:
    kinds: Counter = Counter()
    srids: Counter = Counter()
    xs, ys = [], []
    for v in values:
        head = _wkb_header(v)
        if head is None:
            continue
        srids[str(head[0])] += 1
        kinds[_WKB_KINDS[head[1]]] += 1
        c = _wkb_coords(bytes(v))
        xs.extend(c[0::2])
        ys.extend(c[1::2])
    base = _native_base(column)
    shares = _shares(kinds, len(values), keep_all=True)
    if base in _WKB_CODES:
        shares = {base: 1.0}
    srid = srids.most_common(1)[0] if srids else ("0", 0)
    return {"kinds": shares or {"point": 1.0}, "srid": int(srid[0]) if srid[1] >= K else 0,
            "x": _quantiles(xs, np.array([0.0, 1.0])), "y": _quantiles(ys, np.array([0.0, 1.0]))}


def _wkb(kind: str, rng: np.random.Generator, box: tuple[float, float, float, float]) -> bytes:
    x0, x1, y0, y1 = box

    def pts(k: int) -> bytes:
        xy = np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])
        return struct.pack(f"<{2 * k}d", *xy.ravel().tolist())

    def ring() -> bytes:
        k = int(rng.integers(3, 6))
        xy = np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])
        c = xy.mean(axis=0)
        xy = xy[np.argsort(np.arctan2(xy[:, 1] - c[1], xy[:, 0] - c[0]))]
        xy = np.vstack([xy, xy[:1]])  # closed
        return struct.pack("<I", len(xy)) + struct.pack(f"<{2 * len(xy)}d", *xy.ravel().tolist())

    code = _WKB_CODES[kind]
    head = b"\x01" + struct.pack("<I", code)
    if kind == "point":
        return head + pts(1)
    if kind == "linestring":
        k = int(rng.integers(2, 5))
        return head + struct.pack("<I", k) + pts(k)
    if kind == "polygon":
        return head + struct.pack("<I", 1) + ring()
    part = {"multipoint": "point", "multilinestring": "linestring", "multipolygon": "polygon",
            "geometrycollection": "point"}[kind]
    k = int(rng.integers(1, 4))
    return head + struct.pack("<I", k) + b"".join(_wkb(part, rng, box) for _ in range(k))


def _gen_mysql_geometry(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    kinds = _pick(p.get("kinds") or {}, n, rng, "point")
    x = p.get("x") or [0.0, 1.0]
    y = p.get("y") or [0.0, 1.0]
    box = (x[0], x[-1], y[0], y[-1])
    srid = struct.pack("<I", int(p.get("srid", 0)))
    return [srid + _wkb(k, rng, box) for k in kinds.tolist()]


FORMS["mysql_geometry"] = (_fit_mysql_geometry, _gen_mysql_geometry)


# PostGIS geometry (hex EWKB text, as geometry::text reads) ----------------------------------------------------
_EWKB_SRID = 0x20000000


def _ewkb_as_mysql(text: Any) -> bytes | None:
    """Hex EWKB (``0101000020E6100000...``) as MariaDB's layout (SRID + WKB), or None (Z/M or not EWKB)."""
    try:
        b = bytes.fromhex(str(text))
    except ValueError:
        return None
    if len(b) < 9 or b[0] not in (0, 1):
        return None
    e = "<" if b[0] == 1 else ">"
    kind = struct.unpack(e + "I", b[1:5])[0]
    srid, rest = 0, b[5:]
    if kind & _EWKB_SRID:
        srid, rest = struct.unpack(e + "I", rest[:4])[0], rest[4:]
    if kind & 0xC0000000 or (kind & 0xFFFF) not in _WKB_KINDS:
        return None  # with Z or M coordinates: not generated
    return struct.pack("<I", srid) + b[:1] + struct.pack(e + "I", kind & 0xFFFF) + rest


def _fit_postgis(values: list, column: Column) -> dict:
    parsed = [_ewkb_as_mysql(v) for v in values]
    if any(b is None for b in parsed):
        raise ValueError("geometry with Z/M coordinates")
    return _fit_mysql_geometry(parsed, column)


def _gen_postgis(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    out = []
    for b in _gen_mysql_geometry(p, n, rng, column):
        srid, kind = struct.unpack("<I", b[:4])[0], struct.unpack("<I", b[5:9])[0]
        head = b[4:5] + struct.pack("<I", kind | _EWKB_SRID) + struct.pack("<I", srid) if srid else b[4:9]
        out.append((head + b[9:]).hex().upper())
    return out


FORMS["postgis"] = (_fit_postgis, _gen_postgis)


# text search ----------------------------------------------------------------------------------------------------------
def _fit_tsvector(values: list, column: Column) -> dict:
    return {"n": _quantiles([len(re.findall(r"'(?:[^']|'')*'(?::[\dA-D,]+)?|\S+", str(v))) for v in values])}


def _gen_tsvector(p: dict, n: int, rng: np.random.Generator, column: Column, query: bool = False) -> list:
    words = _words()
    counts = _lengths(p.get("n") or [3.0], n, rng, 1)
    out = []
    for k in counts.tolist():
        chosen = sorted(set(words[rng.integers(len(words), size=k)].tolist()))
        if query:
            out.append(" & ".join(f"'{w}'" for w in chosen))
        else:
            out.append(" ".join(f"'{w}':{i + 1}" for i, w in enumerate(chosen)))
    return out


FORMS["tsvector"] = (_fit_tsvector, _gen_tsvector)
FORMS["tsquery"] = (_fit_tsvector, lambda p, n, rng, column: _gen_tsvector(p, n, rng, column, query=True))


# composite (record) types ---------------------------------------------------------------------------------------------
def parse_record(text: str) -> list[str | None] | None:
    """The fields of a PostgreSQL record literal ``(a,"b c",)`` (None for a NULL field), or None."""
    text = text.strip()
    if len(text) < 2 or text[0] != "(" or text[-1] != ")":
        return None
    body, i = text[1:-1], 0
    fields: list[str | None] = []
    while True:
        if i < len(body) and body[i] == '"':
            i += 1
            buf = []
            while i < len(body):
                c = body[i]
                if c == "\\" and i + 1 < len(body):
                    buf.append(body[i + 1])
                    i += 2
                elif c == '"' and i + 1 < len(body) and body[i + 1] == '"':
                    buf.append('"')
                    i += 2
                elif c == '"':
                    i += 1
                    break
                else:
                    buf.append(c)
                    i += 1
            fields.append("".join(buf))
        else:
            j = body.find(",", i)
            j = len(body) if j < 0 else j
            raw = body[i:j]
            fields.append(raw if raw else None)
            i = j
        if i >= len(body):
            break
        if body[i] != ",":
            return None
        i += 1
        if i == len(body):
            fields.append(None)
            break
    return fields


def _fit_composite(values: list, column: Column) -> dict:
    records = [r for r in (parse_record(str(v)) for v in values) if r is not None]
    width = Counter(len(r) for r in records).most_common(1)[0][0] if records else 1
    fields = []
    for j in range(width):
        vals = [r[j] for r in records if len(r) == width]
        present = [v for v in vals if v is not None]
        spec: dict[str, Any] = {"null": (len(vals) - len(present)) / len(vals) if vals else 0.0}
        padded = any(len(v) > 1 and v.startswith("0") for v in present)  # zip codes: digit text, not numbers
        if present and not padded and all(re.match(r"^-?\d+$", v) for v in present):
            spec.update(kind="int", q=_quantiles([float(v) for v in present]))
        elif present and not padded and all(_FLOAT.fullmatch(v) for v in present):
            spec.update(kind="num", q=_quantiles([float(v) for v in present]))
        elif present and all(re.match(r"^\d{4}-\d\d-\d\d$", v) for v in present):
            days = [(pd.Timestamp(v) - pd.Timestamp(0)).days for v in present]
            spec.update(kind="date", q=_quantiles(days))
        else:
            gen = TextGenerator(Column(name=column.name, type=st.STRING, nullable=False))
            gen.fit(pd.Series(present, dtype=object))
            spec.update(kind="text", text=gen.state())
        fields.append(spec)
    return {"fields": fields}


def _gen_composite(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    columns = []
    for spec in p.get("fields") or [{"kind": "text"}]:
        kind = spec.get("kind", "text")
        if kind == "int":
            vals = [str(int(v)) for v in np.rint(_draw(spec.get("q") or [0.0], n, rng))]
        elif kind == "num":
            vals = [_num(v) for v in _draw(spec.get("q") or [0.0], n, rng)]
        elif kind == "date":
            days = np.rint(_draw(spec.get("q") or [10957.0], n, rng)).astype("int64")
            vals = [(pd.Timestamp(0) + pd.Timedelta(days=int(d))).date().isoformat() for d in days]
        else:
            gen = TextGenerator(Column(name=column.name, type=st.STRING, nullable=False))
            if spec.get("text"):
                gen.load_state(spec["text"])
            vals = gen.generate(n, rng).astype(object).tolist() if n else []
        nulls = rng.random(n) < float(spec.get("null", 0.0))
        columns.append([None if z else v for v, z in zip(vals, nulls.tolist())])

    def quote(v: str | None) -> str:
        if v is None:
            return ""
        return '"' + v.replace("\\", "\\\\").replace('"', '""') + '"'

    return ["(" + ",".join(quote(f) for f in row) + ")" for row in zip(*columns)] if columns else ["()"] * n


FORMS["composite"] = (_fit_composite, _gen_composite)


# MariaDB SET ----------------------------------------------------------------------------------------------------------
def set_members(native_type: str | None) -> list[str]:
    """The members of a ``SET('a','b',...)`` type spelling, in declaration order ([] for other types)."""
    text = native_type or ""
    if not text.upper().startswith("SET("):
        return []
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", text)]


def _fit_set(values: list, column: Column) -> dict:
    # frequent combinations, else member inclusion and count shares, each of k rows (dbsynth.model.columns)
    return fit_set(values, set_members(column.native_type))


def _gen_set(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    return generate_set(p, set_members(column.native_type), n, rng).tolist()


FORMS["set"] = (_fit_set, _gen_set)


# SQLite's typeless values ---------------------------------------------------------------------------------------------
def _mixed_kind(v: Any) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(v, bool):
        return "int"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    return "str"


def _fit_mixed(values: list, column: Column) -> dict:
    kinds = Counter(_mixed_kind(v) for v in values)
    p: dict[str, Any] = {"kinds": _shares(kinds, len(values), keep_all=True)}
    p["int"] = _quantiles([float(v) for v in values if _mixed_kind(v) == "int"])
    p["float"] = _quantiles([float(v) for v in values if _mixed_kind(v) == "float"])
    p["bytes"] = _quantiles([len(bytes(v)) for v in values if _mixed_kind(v) == "bytes"])
    gen = TextGenerator(Column(name=column.name, type=st.STRING, nullable=False))
    gen.fit(pd.Series([str(v) for v in values if _mixed_kind(v) == "str"], dtype=object))
    p["str"] = gen.state()
    return p


def _gen_mixed(p: dict, n: int, rng: np.random.Generator, column: Column) -> list:
    kinds = _pick(p.get("kinds") or {}, n, rng, "str")

    def values(kind: str, m: int) -> list:
        if kind == "int":
            return [int(v) for v in np.rint(_draw(p.get("int") or [0.0], m, rng))]
        if kind == "float":
            return [float(v) for v in _draw(p.get("float") or [0.0], m, rng)]
        if kind == "bytes":
            return [rng.bytes(int(k)) for k in _lengths(p.get("bytes") or [4.0], m, rng)]
        gen = TextGenerator(Column(name=column.name, type=st.STRING, nullable=False))
        gen.load_state(p["str"]) if p.get("str") else None
        return gen.generate(m, rng).astype(object).tolist()

    return _by_kind(kinds, n, values)


FORMS["mixed"] = (_fit_mixed, _gen_mixed)


# ---- choosing the form -----------------------------------------------------------------------------------------------
_BY_NATIVE = {
    "money": "money", "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "macaddr8": "macaddr",
    "interval": "interval", "year": "year", "xml": "xml", "tsvector": "tsvector", "tsquery": "tsquery",
    "bit varying": "bit", "varbit": "bit", "json": "json", "jsonb": "json", "uuid": "uuid",
}
_MYSQL_GEOMETRY = {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                   "geometrycollection", "geomcollection"}


def detect_form(column: Column, values: list) -> str | None:
    """The form (a key of :data:`FORMS`) of ``column`` given a sample of its non-NULL ``values``; None when
    dbsynth does not know how to generate it."""
    fam = column.type
    base = _native_base(column)
    first = next((v for v in values if v is not None), None)
    if fam == st.BINARY:
        return "binary"
    if fam == st.JSON:
        return "json"
    if fam == st.ARRAY:
        return "array"
    if fam == st.INTERVAL:
        return "interval"
    if fam == st.UUID:
        return "uuid"
    if set_members(column.native_type):
        return "set"
    if fam == st.INTEGER and st.is_mysql_year(column.native_type):
        return "year"  # MariaDB YEAR is read as an integer: only 0 and 1901..2155 are valid
    if fam not in (st.OTHER, st.STRING):
        return None
    if base == "bit":
        return "mysql_bit" if isinstance(first, (bytes, bytearray, memoryview)) else "bit"
    if base in _MYSQL_GEOMETRY and (first is None or isinstance(first, (bytes, bytearray, memoryview))):
        return "mysql_geometry"
    if base in ("geometry", "geography") and isinstance(first, str):
        return "postgis"
    if base in _PG_GEOMETRIC:
        return "pg_geometry"
    if base.endswith(("range", "multirange")):
        return "range" if not base.endswith("multirange") else None
    if base in _BY_NATIVE:
        return _BY_NATIVE[base]
    if first is None:
        return None
    # what the values look like (SQLAlchemy does not know the type: native_type is None or unfamiliar)
    sample = [v for v in values[:200] if v is not None]
    if all(_wkb_header(v) is not None for v in sample):
        return "mysql_geometry"
    kinds = {_mixed_kind(v) for v in sample}
    if len(kinds) > 1 or kinds <= {"int", "float", "bytes"}:
        return "mixed" if base == "" else None
    texts = [str(v).strip() for v in sample]
    shapes = {_pg_shape(t) for t in texts}
    if None not in shapes and len(shapes) == 1:
        return "pg_geometry"
    # '(a,b)' is both a two-field record and an exclusive range: a range only when some value says so
    if (all(_RANGE.match(t) or t.lower() == "empty" for t in texts)
            and any(t.startswith("[") or t.endswith("]") or t.lower() == "empty" for t in texts)):
        return "range"
    if all(t.startswith("<") and t.endswith(">") and _TAG.match(t) for t in texts):
        return "xml"
    if all(parse_record(t) is not None for t in texts):
        return "composite"
    if all(re.match(r"^('(?:[^']|'')*'(:\d+[A-D]?(,\d+[A-D]?)*)?\s*)+$", t) for t in texts):
        return "tsvector"
    return None


# ---- the generator ---------------------------------------------------------------------------------------------------
class ValueGenerator(PlaceholderGenerator):
    """Valid values of a type the model does not learn, in the observed style (see the module docstring).

    It takes the place of :class:`~dbsynth.model.columns.PlaceholderGenerator` for unsupported columns, and falls
    back to its behaviour where the type is not known.

    :meth:`fit` finds the form and its parameters from the column's type and a sample of its values. A
    column whose form is unknown is NULL where nullable, else a placeholder of its type, with a note once per
    table.column (:func:`take_notes`). NULL fractions are kept; a NOT NULL column gets no NULL.
    """

    kind = "typed"

    def __init__(self, column: Column, table: str | None = None) -> None:
        super().__init__(column, table)
        self.form: str | None = None
        self.params: dict[str, Any] = {}
        self.note: str | None = None

    def fit(self, series: pd.Series) -> ValueGenerator:
        """Learn the form and its parameters (shapes, shares, window-mean quantiles; never a value)."""
        super().fit(series)
        values = [v for v in series.to_numpy(dtype=object)[:_FIT_ROWS] if not _is_null(v)]
        self.form = detect_form(self.column, values)
        if self.form == "uuid":
            self.params = {}
        elif self.form is not None:
            try:
                self.params = FORMS[self.form][0](values, self.column)
            except (ValueError, TypeError, ArithmeticError, struct.error):
                self.form = None
        if self.form is None:
            self.note = (f"values of type {self.column.native_type or self.column.type} are not generated: "
                         + ("NULL is written" if self.column.nullable else "a placeholder is written")
                         + "; copy the column (tables: <table>: {mode: copy}) to keep its values")
            note(self.table, self.column.name, self.note)
        return self

    def generate(self, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
        """``n`` values of the learned form (NULL in the learned share)."""
        if self.form is None:
            if self.note:
                note(self.table, self.column.name, self.note)
            if self.column.nullable:
                return pd.Series([None] * n, dtype=object)
            return placeholder(self.column, n, rng)
        if self.form == "uuid":
            values: Any = uuid_strings(rng, n).tolist()
        else:
            values = FORMS[self.form][1](self.params, n, rng, self.column)
        nulls = _null_mask(rng, n, self.null_fraction) if self.column.nullable else None
        if isinstance(values, pd.Series):
            return values.where(~nulls, None) if nulls is not None else values
        arr = np.empty(n, dtype=object)
        for i, v in enumerate(values):  # element by element: numpy would make bytes_ of bytes (loses 0x00 ends)
            arr[i] = v
        if nulls is not None:
            arr[nulls] = None
        return pd.Series(arr, dtype=object)

    def state(self) -> dict[str, Any]:
        return {"form": self.form, "params": self.params, "note": self.note}

    def load_state(self, data: dict[str, Any]) -> None:
        self.form = data.get("form")
        if self.form is not None and self.form not in FORMS and self.form != "uuid":
            raise ValueError(f"unknown value form '{self.form}'")
        self.params = dict(data.get("params") or {})
        self.note = data.get("note")


def _is_null(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)
