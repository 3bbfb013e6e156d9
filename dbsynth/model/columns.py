"""Generators for the columns the model does not learn: keys, PII, free text and unsupported types (binary,
JSON, XML, arrays, ranges, geometry...: :mod:`dbsynth.model.typed`).

Each generator learns only a handful of statistics in :meth:`ColumnGenerator.fit` (a key pattern, length
quantiles, character classes, the NULL fraction) and never keeps source rows, since the source is
production data and a saved model must not leak it. :meth:`ColumnGenerator.generate` is deterministic
given the numpy ``Generator`` passed in, and vectorised: a million values take a few seconds at most.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import string
import threading
import zlib
from dataclasses import fields
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import DbsynthError, ModelFileError, UnsupportedError
from ..metadata import sdtypes as st
from ..metadata.records import Column, Table
from .text import TextModel

__all__ = [
    "ColumnGenerator",
    "KeyGenerator",
    "PIIGenerator",
    "PlaceholderGenerator",
    "TextGenerator",
    "faker_values",
    "fit_set",
    "generate_set",
    "generator_for",
    "uuid_strings",
]

#: Faker calls behind the pool of one provider (made once per process; Faker is slow per call).
PII_POOL_SIZE = 2000

_UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UPPER = string.ascii_uppercase
_LOWER = string.ascii_lowercase
_DIGITS = string.digits
# Multiplier of the bijection that scatters patterned keys (a prime, hence coprime with any charset**width).
_SCATTER = 2_147_483_647


# ---- shared helpers -----------------------------------------------------------------------------------
def uuid_strings(rng: np.random.Generator, n: int, dashes: bool = True) -> np.ndarray:
    """``n`` version-4 UUID strings made from ``rng``'s bytes (deterministic for a seeded ``rng``).

    Args:
        rng: the random source.
        n: how many.
        dashes: the canonical 36-character form; without, 32 hex digits.

    Returns:
        A numpy unicode array of length ``n``.
    """
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 0x0F]
    if dashes:
        out = np.full((n, 36), ord("-"), dtype=np.uint8)
        for src, dst in (((0, 8), 0), ((8, 12), 9), ((12, 16), 14), ((16, 20), 19), ((20, 32), 24)):
            out[:, dst : dst + src[1] - src[0]] = hexed[:, src[0] : src[1]]
    else:
        out = hexed
    width = out.shape[1]
    return np.ascontiguousarray(out).view(f"S{width}").ravel().astype(f"U{width}")


def _encode(numbers: np.ndarray, charset: str, width: int) -> np.ndarray:
    """Write non-negative ``numbers`` in base ``len(charset)`` with ``width`` digits (vectorised)."""
    base = len(charset)
    chars = np.frombuffer(charset.encode("ascii"), dtype=np.uint8)
    digits = np.zeros((len(numbers), width), dtype=np.int64)
    rest = numbers.astype(np.int64)
    for pos in range(width - 1, -1, -1):  # loop over the width (a few columns), not over rows
        digits[:, pos] = rest % base
        rest = rest // base
    out = np.ascontiguousarray(chars[digits])
    if width == 0:
        return np.full(len(numbers), "", dtype="U1")
    return out.view(f"S{width}").ravel().astype(f"U{width}")


def _strings(values: np.ndarray | list, nulls: np.ndarray | None = None) -> pd.Series:
    """A Series of ``str`` values (pandas' default string dtype), NULL where ``nulls`` is True."""
    values = np.asarray(values, dtype=object)
    if nulls is not None and nulls.any():
        values = values.copy()
        values[nulls] = None
    return pd.Series(values, dtype="str")


def _null_mask(rng: np.random.Generator, n: int, fraction: float) -> np.ndarray | None:
    """Rows to set NULL so that the learned NULL fraction is kept (None when there is none to keep)."""
    if fraction <= 0:
        return None
    return rng.random(n) < fraction


@lru_cache(maxsize=8)
def _faker(locales: tuple[str, ...]):
    """A Faker instance per locale list (building one is slow); callers seed it before each use.

    ``use_weighting=False``: Faker picks list elements uniformly instead of by their real-world frequency,
    which makes names 40x and addresses 3x faster per call (Faker recomputes cumulative weights on every
    call); the values stay just as plausible, and PII pools are the main cost of sampling small schemas.
    """
    from faker import Faker

    return Faker(list(locales), use_weighting=False)


#: Faker calls per seeded chunk of a pool (a pool grows by whole chunks).
_POOL_CHUNK = 100


class _FakerPool:
    """Values of one Faker provider for one locale list, shared by every column, batch and call of the process.

    The pool is a fixed stream: chunk ``i`` is :data:`_POOL_CHUNK` calls of Faker seeded with a hash of
    (locales, provider, i), deduplicated in order of first appearance. :meth:`take` returns the values of the
    first chunks, so what a caller gets never depends on what other callers asked for before (runs stay
    reproducible), while Faker is only called for chunks nobody has made yet: a streamed table of a hundred
    batches, or two address columns, pay for one pool.
    """

    _lock = threading.Lock()  # the Faker instance is shared: one grower at a time (sampling runs in a thread)

    def __init__(self, locales: tuple[str, ...], provider: str) -> None:
        self.locales, self.provider = locales, provider
        self.values: list[str] = []
        self.first_chunk: list[int] = []  # the chunk each value first appeared in (non-decreasing)
        self.seen: set[str] = set()
        self.chunks = 0

    def take(self, calls: int) -> list[str]:
        """The distinct values of the first ``calls`` Faker calls (rounded up to whole chunks)."""
        need = -(-calls // _POOL_CHUNK)
        with self._lock:
            if self.chunks < need:
                fake = _faker(self.locales)
                make = getattr(fake, self.provider)
                for chunk in range(self.chunks, need):
                    key = "\x00".join((*self.locales, self.provider, str(chunk))).encode()
                    fake.seed_instance(zlib.crc32(key))
                    for _ in range(_POOL_CHUNK):
                        v = str(make())
                        if v not in self.seen:
                            self.seen.add(v)
                            self.values.append(v)
                            self.first_chunk.append(chunk)
                self.chunks = need
            return self.values[: bisect.bisect_left(self.first_chunk, need)]


_POOLS: dict[tuple[tuple[str, ...], str], _FakerPool] = {}


def _pool(locales: tuple[str, ...], provider: str) -> _FakerPool:
    key = (locales, provider)
    if key not in _POOLS:
        _POOLS.setdefault(key, _FakerPool(locales, provider))
    return _POOLS[key]


def faker_values(locales: tuple[str, ...], provider: str, calls: int) -> list[str]:
    """The distinct values of the first ``calls`` (at most :data:`PII_POOL_SIZE`) calls of a Faker provider,
    from the process-wide pool shared by every column (see :class:`_FakerPool`)."""
    return _pool(locales, provider).take(min(calls, PII_POOL_SIZE))


def _saved_column_name(data: Any) -> str | None:
    """The column name of a saved generator, for error messages (None when the dict lacks it)."""
    column = data.get("column") if isinstance(data, dict) else None
    return column.get("name") if isinstance(column, dict) else None


def _column_dict(column: Column) -> dict[str, Any]:
    """The column's set fields (``dataclasses.asdict`` without its recursive deep copy: fields are flat)."""
    out = {}
    for f in fields(column):
        v = getattr(column, f.name)
        if v is not None:
            out[f.name] = list(v) if isinstance(v, list) else v
    return out


def _column_from_dict(data: dict[str, Any]) -> Column:
    known = {f.name for f in fields(Column)}
    return Column(**{k: v for k, v in data.items() if k in known})


# ---- the base class ------------------------------------------------------------------------------------
class ColumnGenerator:
    """Makes values for one non-modelled column.

    Subclasses set :attr:`kind` (the key of :meth:`to_dict`) and implement :meth:`fit`,
    :meth:`generate`, :meth:`state` and :meth:`load_state`.

    Args:
        column: the column generated.
        table: name of its table, for error messages.
    """

    kind: ClassVar[str] = ""
    _registry: ClassVar[dict[str, type[ColumnGenerator]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            ColumnGenerator._registry[cls.kind] = cls

    def __init__(self, column: Column, table: str | None = None) -> None:
        self.column = column
        self.table = table
        self.null_fraction = 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.table}.{self.column.name})"

    # -- learning --------------------------------------------------------------------------------------
    def fit(self, series: pd.Series) -> ColumnGenerator:
        """Learn the small statistics this generator needs from the real column (never the rows).

        Args:
            series: the column's real values.

        Returns:
            ``self``.
        """
        if self.column.nullable and len(series):
            self.null_fraction = float(series.isna().mean())
        return self

    def generate(self, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
        """``n`` values, deterministic given ``rng``.

        Args:
            n: number of values.
            rng: the random source (a seeded numpy ``Generator``).
            start: how many values earlier batches produced; sequential keys continue from there so that
                batches give unique keys across calls.

        Returns:
            A Series of length ``n`` (RangeIndex) following the frame contract for the column's type.
        """
        raise NotImplementedError

    # -- persistence -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with a ``"kind"`` key; :meth:`from_dict` rebuilds the generator from it."""
        return {
            "kind": self.kind,
            "table": self.table,
            "column": _column_dict(self.column),
            "null_fraction": self.null_fraction,
            **self.state(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnGenerator:
        """Rebuild the generator :meth:`to_dict` described (the right subclass, chosen by ``"kind"``).

        Raises:
            ModelFileError: when the kind is unknown or the dict is malformed.
        """
        try:
            sub = ColumnGenerator._registry[data["kind"]]
            column = _column_from_dict(data["column"])
            gen = sub.__new__(sub)
            ColumnGenerator.__init__(gen, column, data.get("table"))
            gen.null_fraction = float(data.get("null_fraction", 0.0))
            gen.load_state(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"column generator is malformed or of an unknown kind ({type(exc).__name__}: {exc})",
                table=data.get("table") if isinstance(data, dict) else None,
                column=_saved_column_name(data),
            ) from None
        return gen

    def state(self) -> dict[str, Any]:
        """What :meth:`fit` learned, as JSON values (the generator's part of :meth:`to_dict`)."""
        return {}

    def load_state(self, data: dict[str, Any]) -> None:
        """Take back what :meth:`state` returned."""

    def _error(self, message: str, hint: str | None = None) -> DbsynthError:
        return DbsynthError(message, table=self.table, column=self.column.name, hint=hint)


# ---- keys ----------------------------------------------------------------------------------------------
#: Where date and timestamp keys start (a round, neutral instant: never the source's first key).
TIME_KEY_ORIGIN = "2000-01-01T00:00:00+00:00"


def _prefix_like(prefix: str, salt: str) -> str:
    """A prefix of the same shape as ``prefix`` and none of its letters' content: each upper-case letter,
    lower-case letter or digit becomes a letter or digit of its class drawn from a hash of ``salt`` (the
    column), other characters stay (separators such as ``-`` or ``_`` are shape); non-ASCII letters become
    ASCII ones of their case. The result has the same length, so keys keep their width."""
    rng = np.random.default_rng(zlib.crc32(f"dbsynth-key-prefix\x00{salt}".encode()))
    out = []
    for c in prefix:
        if c.isdigit():
            out.append(_DIGITS[rng.integers(10)])
        elif c.isalpha():
            out.append((_LOWER if c.islower() else _UPPER)[rng.integers(26)])
        elif c.isascii() and c.isprintable():
            out.append(c)
        else:
            out.append("-")
    return "".join(out)


class KeyGenerator(ColumnGenerator):
    """Unique keys: integers ``start+1 .. start+n``, UUIDs from ``rng``, or patterned strings.

    Patterns learned by :meth:`fit` from string keys:

    * ``uuid``: every value is a UUID (or the column's type is uuid);
    * ``prefix_digits``: one constant prefix and digits (``ORD-000123``, or digit-only strings), zero padded
      when the source is; keys continue the sequence ``1..n`` (the source's numbers are not kept). Only the
      prefix's *shape* is learned (upper/lower letter or digit per position, punctuation kept): the prefix
      written is made of other letters of the same classes, from a hash of the column's name, so
      ``SECRETACCT-000123`` becomes e.g. ``QXUMBWEOZN-000001`` and the real prefix is never stored;
    * ``chars``: anything else, e.g. ``ALFKI``: fixed-width strings over the character classes seen,
      unique by construction (a bijection of the sequence number, so that they do not look sequential);
    * ``time``: dates or timestamps, one step (a day, a second) per key from a fixed origin
      (:data:`TIME_KEY_ORIGIN`), never from the source's first key.

    Keys never contain NULL. ``Column.length`` and ``Column.bits`` are respected; when the values asked
    for cannot fit, :meth:`generate` raises :class:`~dbsynth.errors.DbsynthError`.
    """

    kind = "key"

    def __init__(self, column: Column, table: str | None = None) -> None:
        super().__init__(column, table)
        if column.type in (st.INTEGER, st.DECIMAL, st.FLOAT):
            self.pattern = "int"
        elif column.type == st.UUID:
            self.pattern = "uuid"
        elif column.type in (st.DATE, st.TIMESTAMP):
            self.pattern = "time"  # a date or timestamp in a key (partitioned tables): one step per key
        else:
            # Without data, strings keys are digit strings (they fit any charset a database accepts).
            self.pattern = "prefix_digits"
        self.prefix = ""
        self.width = 0
        self.charset = _UPPER

    def fit(self, series: pd.Series) -> KeyGenerator:
        """Learn the key pattern (its shape, not the values); integer and time keys learn nothing (new keys
        are ``1..n``, or steps from :data:`TIME_KEY_ORIGIN`)."""
        if self.pattern == "time":
            return self  # the first real key would be a value of a row: keys start at a fixed origin
        if self.pattern in ("int", "uuid"):
            return self
        values = series.dropna().astype(str)
        if values.empty:
            return self
        if values.str.match(_UUID_RE).all():
            self.pattern = "uuid"
            return self
        parts = values.str.extract(r"^(\D*?)(\d+)$")
        if parts[1].notna().all() and parts[0].nunique() == 1:
            self.pattern = "prefix_digits"
            self.prefix = _prefix_like(str(parts[0].iloc[0]), f"{self.table}.{self.column.name}")
            widths = parts[1].str.len()
            # Zero padded when every number has the same width over several values (ORD-000123, or
            # 00042); otherwise plain numbers (1, 2, ..., 10).
            self.width = int(widths.iloc[0]) if widths.nunique() == 1 and len(widths) > 1 else 0
            return self
        self.pattern = "chars"
        seen = set("".join(values.iloc[:10_000].tolist()))
        # Keys keep the character classes of the source (other characters such as '-' are dropped).
        charset = "".join(chars for chars in (_DIGITS, _UPPER, _LOWER) if seen & set(chars))
        self.charset = charset or _UPPER
        self.width = int(values.str.len().max())
        return self

    def generate(self, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
        """``n`` unique keys following the learned pattern, unique across batches given ``start``.

        Raises:
            DbsynthError: when ``start + n`` keys cannot fit the column's bits or length.
        """
        seq = np.arange(start + 1, start + n + 1, dtype=np.int64)
        length = self.column.length
        if self.pattern == "int":
            bits = self.column.bits or 64
            if start + n > 2 ** (bits - 1) - 1:
                raise self._error(f"{start + n} keys do not fit a {bits}-bit integer")
            if self.column.type == st.INTEGER:
                return pd.Series(seq, dtype="int64")
            return pd.Series(seq.astype(np.float64))
        if self.pattern == "time":
            origin = pd.Timestamp(self.prefix or TIME_KEY_ORIGIN)  # prefix: files written before 14
            values = origin + pd.to_timedelta(seq - 1, unit="D" if self.column.type == st.DATE else "s")
            if not self.column.timezone:
                values = values.tz_convert("UTC").tz_localize(None)
            return pd.Series(values)
        if self.pattern == "uuid":
            if self.column.type == st.UUID or length is None or length >= 36:
                return _strings(uuid_strings(rng, n))
            if length >= 32:
                return _strings(uuid_strings(rng, n, dashes=False))
            # Too short for a UUID: fall back to hex strings unique by construction.
            return self._chars(seq - 1, "0123456789abcdef", length, length)
        if self.pattern == "prefix_digits":
            numbers = seq.astype(str)
            if self.width and n:  # numpy's zfill refuses an empty array
                numbers = np.strings.zfill(numbers, self.width)
            values = np.strings.add(self.prefix, numbers) if self.prefix else numbers
            longest = len(self.prefix) + max(self.width, len(str(start + n)))
            if length is not None and longest > length:
                raise self._error(f"{start + n} keys of the form '{self.prefix}<number>' do not fit length {length}")
            return _strings(values)
        return self._chars(seq - 1, self.charset, self.width, length)

    def _chars(self, numbers: np.ndarray, charset: str, width: int, length: int | None) -> pd.Series:
        base = len(charset)
        needed = int(numbers[-1]) + 1 if len(numbers) else 1
        width = max(width, 1)
        while base**width < needed:  # widen only when the learned width cannot hold every key
            width += 1
        if length is not None and width > length:
            raise self._error(f"{needed} distinct keys do not fit length {length}")
        space = base**width
        if space < 2**31:
            # A fixed bijection of [0, space): keys look scattered, stay unique across batches.
            numbers = (numbers * _SCATTER + space // 3) % space
        return _strings(_encode(numbers, charset, width))

    def state(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "prefix": self.prefix, "width": self.width, "charset": self.charset}

    def load_state(self, data: dict[str, Any]) -> None:
        self.pattern = data["pattern"]
        self.prefix = data.get("prefix", "")
        self.width = int(data.get("width", 0))
        self.charset = data.get("charset", _UPPER)


# ---- PII -----------------------------------------------------------------------------------------------
class PIIGenerator(ColumnGenerator):
    """Personal data from Faker (emails, names, phone numbers...) for the configured locales.

    Faker is slow per call, so :meth:`generate` samples with ``rng`` from a pool per provider and locale
    list (the values of at most :data:`PII_POOL_SIZE` seeded Faker calls), made once per process and shared
    by every column and batch. When the column must be unique,
    a numeric suffix built from the row's sequence number makes each value distinct (emails get it before
    the ``@``: ``jane.doe+17@example.org``). Values are cut to ``Column.length``.

    Args:
        column: the column.
        table: its table's name.
        provider: the Faker provider (method name), e.g. ``email``.
        locales: Faker locales.
        unique: whether values must be distinct (primary key or single-column unique constraint).

    Raises:
        UnsupportedError: when Faker has no such provider.
    """

    kind = "pii"

    def __init__(
        self,
        column: Column,
        table: str | None = None,
        provider: str = "name",
        locales: list[str] | None = None,
        unique: bool = False,
    ) -> None:
        super().__init__(column, table)
        self.provider = provider
        self.locales = list(locales or ["en_US"])
        self.unique = unique
        self._check_provider()

    def _check_provider(self) -> None:
        try:
            getattr(_faker(tuple(self.locales)), self.provider)
        except AttributeError:
            raise UnsupportedError(
                f"Faker has no provider '{self.provider}' for locales {self.locales}",
                table=self.table,
                column=self.column.name,
                hint="Set Column.pii to a Faker provider name such as 'email' or 'name'.",
            ) from None

    def generate(self, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
        """``n`` Faker values (pool sampled with ``rng``), suffixed when unique, cut to the length."""
        # At most PII_POOL_SIZE Faker calls whatever n is, made once per process (see _FakerPool); 2n calls
        # for small n, so that which n values a run takes from the pool depends on its seed.
        pool = _pool(tuple(self.locales), self.provider).take(min(max(2 * n, 100), PII_POOL_SIZE))
        # Small batches take distinct pool values (no accidental repeats); large ones sample with replacement.
        idx = rng.permutation(len(pool))[:n] if n <= len(pool) else rng.integers(len(pool), size=n)
        if self.unique:
            return self._suffixed(pool, idx, start)
        if self.column.length is not None:  # cut the pool (small), not the n values
            pool = [v[: self.column.length] for v in pool]
        return _strings(np.asarray(pool, dtype=object)[idx], _null_mask(rng, n, self.null_fraction))

    def _suffixed(self, pool: list[str], idx: np.ndarray, start: int) -> pd.Series:
        """Pool values ``idx`` made distinct by the row's sequence number, cut to fit the length."""
        n = len(idx)
        numbers = pd.Series(np.arange(start + 1, start + n + 1)).astype("str")
        if self.provider == "email":
            parts = pd.Series(pool, dtype="str").str.partition("@")  # split the pool once, not n values
            local = pd.Series(parts[0].to_numpy(dtype=object)[idx], dtype="str")
            tail = "+" + numbers + "@" + pd.Series(parts[2].to_numpy(dtype=object)[idx], dtype="str")
        else:
            # The separator cannot occur in the number, so the suffix alone tells values apart.
            local = pd.Series(np.asarray(pool, dtype=object)[idx], dtype="str")
            tail = "_" + numbers
        length = self.column.length
        if length is not None:
            room = length - tail.str.len().to_numpy()
            if (room < 0).any():
                raise self._error(f"unique values with a numeric suffix do not fit length {length}")
            over = local.str.len().to_numpy() > room
            # Few distinct room sizes (domains x digit counts): one vectorised cut per size.
            for size in np.unique(room[over]):
                rows = over & (room == size)
                local[rows] = local[rows].str.slice(0, int(size))
        return local + tail

    def state(self) -> dict[str, Any]:
        return {"provider": self.provider, "locales": self.locales, "unique": self.unique}

    def load_state(self, data: dict[str, Any]) -> None:
        self.provider = data["provider"]
        self.locales = list(data.get("locales") or ["en_US"])
        self.unique = bool(data.get("unique", False))


# ---- free text -----------------------------------------------------------------------------------------
QUANTILE_PROBS = np.linspace(0.0, 1.0, 21)
#: Distinct values a text column's model learns from (a fixed random subset beyond: a bounded fit).
_TEXT_TRAIN = 5000
#: Distinct values per value from which a text column is drawn without repeats while its pool lasts.
_MOSTLY_DISTINCT = 0.9


@lru_cache(maxsize=1)
def _words() -> np.ndarray:
    from faker.providers.lorem.la import Provider

    return np.asarray(sorted(set(Provider.word_list)), dtype=object)


class TextGenerator(ColumnGenerator):
    """Free text: lengths drawn from the learned length quantiles, content made of random characters of
    the learned class (``digits``, ``upper``, ``lower``, ``alpha``, ``alnum``) or of lorem-ipsum words
    (``words``, when the source has whitespace; ``case`` keeps upper-case text upper case).

    Generation cuts substrings out of one random buffer and splits them in C (``str.split``), so a
    million values take about a second.

    A column that must be unique (``unique``: its table's one-column primary key or unique constraint) gets
    values distinct by construction from the row's sequence number (``start`` + row), so batches never clash:
    words end in ``-<number>``; strings of one character class are the number written in that class,
    scattered, at the learned median length or wider when the rows need it.

    Args:
        column: the column.
        table: its table's name.
        unique: whether values must be distinct.
    """

    kind = "text"

    def __init__(self, column: Column, table: str | None = None, unique: bool = False) -> None:
        super().__init__(column, table)
        self.unique = unique
        default_max = min(column.length or 40, 40)
        self.quantiles = list(np.linspace(min(5, default_max), default_max, len(QUANTILE_PROBS)))
        self.char_class = "words"
        self.case = "sentence"
        self.text: TextModel | None = None  # what the column holds and a pool of new values (None: lorem)
        self.all_distinct = False  # (nearly) every real value distinct: drawn without repeats while the pool lasts
        self.distinct_ratio = 1.0  # distinct values per value in the source (kept when all_distinct)

    def fit(self, series: pd.Series) -> TextGenerator:
        """Learn the NULL fraction, length quantiles and character class (from at most 10,000 values)."""
        super().fit(series)
        # plain Python over the values: pandas' .str accessors cost more than the work on most columns
        present = series.to_numpy(dtype=object)[~series.isna().to_numpy()]
        if not len(present):
            return self
        values = [v if type(v) is str else str(v) for v in present]
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        self.quantiles = [float(q) for q in np.quantile(lengths, QUANTILE_PROBS)]
        sample = set("".join(values[:10_000]))
        letters = {c for c in sample if c.isalpha()}
        has_upper = any(c.isupper() for c in letters)
        has_lower = any(c.islower() for c in letters)
        has_digit = any(c.isdigit() for c in sample)
        if any(c.isspace() for c in sample) or not sample <= set(string.ascii_letters + string.digits):
            self.char_class = "words"
            self.case = "upper" if has_upper and not has_lower else "lower" if not has_upper else "sentence"
        elif letters and has_digit:
            self.char_class = "alnum"
        elif has_digit:
            self.char_class = "digits"
        elif has_upper and has_lower:
            self.char_class = "alpha"
        else:
            self.char_class = "upper" if has_upper else "lower"
        self._fit_text(values)
        return self

    def _fit_text(self, values: list[str]) -> None:
        """Recognise what the column holds and learn its values' kind (:class:`~dbsynth.model.text.TextModel`);
        lorem ipsum only when the real values are lorem ipsum (``text`` stays None)."""
        counts = pd.Series(values, dtype=object).value_counts(sort=False)
        # (nearly) every real value distinct (names, titles): drawn without repeats while the pool lasts, so the
        # source's distinct count is kept
        self.all_distinct = len(values) > 1 and len(counts) >= _MOSTLY_DISTINCT * len(values)
        self.distinct_ratio = len(counts) / len(values)
        if len(counts) > _TEXT_TRAIN:  # bounded fit: the chain learns from a fixed subset of the values
            train = counts.iloc[np.random.default_rng(0).permutation(len(counts))[:_TEXT_TRAIN]]
        else:
            train = counts
        model = TextModel.fit(
            train.index.tolist(), train.to_numpy().tolist(), column=self.column.name, table=self.table,
            min_count=_set_k(), max_length=self.column.length,
        )
        if model.kind == "lorem":
            self.text = None
            return
        self.text = model
        if self.unique and model.kind == "code":
            self.text = None  # unique codes: the character classes' bijection, unique by construction at any size
        elif model.provider is None and not model.pool:
            self.text = None  # nothing new could be made: random text of the character classes, as before

    def _generate_text(self, text: TextModel, n: int, rng: np.random.Generator, start: int) -> pd.Series:
        """``n`` values of the recognised kind; unique columns take the pool in a fixed order per column (so
        batches never clash) and add ``-<number>`` past its end."""
        length = self.column.length
        if not self.unique:
            if "chain" in text.params and n:
                values = self._by_length(text.pool, n, rng)
            else:
                values = text.values(n, rng, distinct=self.all_distinct)
                if length is not None and text.provider is not None:
                    values = [v[:length] for v in values]
            if self.all_distinct and self.distinct_ratio < 1.0 and n > 1:
                # the source's share of distinct values: the draws past it repeat earlier ones
                keep = max(int(round(n * self.distinct_ratio)), 1)
                values[keep:] = [values[i] for i in rng.integers(keep, size=n - keep).tolist()]
            return _strings(values, _null_mask(rng, n, self.null_fraction))
        pool = text.labels(start + n, f"{self.table}.{self.column.name}")
        if length is not None:
            pool = [v[:length] for v in pool]
        fresh = list(dict.fromkeys(pool))
        if start + n <= len(fresh):
            return _strings(fresh[start : start + n], _null_mask(rng, n, self.null_fraction))
        seq = np.arange(start + 1, start + n + 1, dtype=np.int64)
        take = np.asarray(fresh or [""], dtype=object)[(seq - 1) % max(len(fresh), 1)]
        within = seq <= len(fresh)
        tail = np.where(within, "", np.strings.add("-", seq.astype(str)))
        body = take.astype(str)
        if length is not None:
            room = np.maximum(length - np.strings.str_len(tail), 0)
            body = np.asarray([b[:r] for b, r in zip(body.tolist(), room.tolist())])
        return _strings(np.strings.add(body.astype(str), tail).astype(object), _null_mask(rng, n, self.null_fraction))

    def _by_length(self, pool: list[str], n: int, rng: np.random.Generator) -> list[str]:
        """``n`` pool values of lengths drawn from the learned quantiles (the real length distribution), picked
        uniformly among those of the drawn length (the nearest one the pool has when none has it); distinct while
        the pool lasts when every real value was distinct."""
        by_length = np.asarray(sorted(pool, key=len), dtype=object)
        lengths = np.fromiter(map(len, by_length), dtype=np.int64, count=len(by_length))
        want = np.rint(np.interp(rng.random(n), QUANTILE_PROBS, self.quantiles))
        above = np.minimum(np.searchsorted(lengths, want, side="left"), len(lengths) - 1)
        below = np.maximum(above - 1, 0)
        # the nearest length the pool has (shorter or longer), then any value of that length
        near = np.where(np.abs(lengths[below] - want) < np.abs(lengths[above] - want), lengths[below], lengths[above])
        lo = np.searchsorted(lengths, near, side="left")
        hi = np.searchsorted(lengths, near, side="right")
        if not self.all_distinct:
            at = np.clip(lo + (rng.random(n) * (hi - lo)).astype(np.int64), 0, len(by_length) - 1)
            return by_length[at].tolist()
        # distinct: the draws of one length take that length's values in a random order; draws past the
        # values a length has take the pool's unused values (then repeats)
        order = rng.permutation(len(by_length))
        by_length = by_length[order[np.lexsort((rng.random(len(order)), lengths[order]))]]
        rank = pd.Series(lo).groupby(lo).cumcount().to_numpy()
        at = np.where(lo + rank < hi, lo + rank, -1)
        spill = at < 0
        m = int(spill.sum())
        if m:
            # unused values (sorted by length, as the pool is) spread evenly over their range and given to the
            # spilled draws in the order of their lengths: the drawn lengths' ranks are kept
            unused = np.setdiff1d(np.arange(len(by_length)), at[~spill], assume_unique=True)
            if len(unused) >= m:
                fill = unused[np.linspace(0, len(unused) - 1, m).round().astype(np.int64)]
            else:
                fill = np.sort(np.r_[unused, rng.integers(len(by_length), size=m - len(unused))])
            rows = np.flatnonzero(spill)
            at[rows[np.argsort(want[rows], kind="stable")]] = fill
        return by_length[at].tolist()

    def generate(self, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
        """``n`` strings with lengths following the learned quantiles (cut to ``Column.length``)."""
        if self.text is not None:
            return self._generate_text(self.text, n, rng, start)
        lengths = np.rint(np.interp(rng.random(n), QUANTILE_PROBS, self.quantiles)).astype(np.int64)
        if self.column.length is not None:
            lengths = np.minimum(lengths, self.column.length)
        lengths = np.maximum(lengths, 0)
        longest = int(lengths.max()) if n else 0
        buffer, starts = self._buffer(rng, max(4 * longest, 1 << 16))
        # Cut piece i out of the buffer at a random admissible start; pieces are joined with NUL separators
        # so that one bytes.decode + str.split builds all the Python strings in C.
        admissible = np.searchsorted(starts, len(buffer) - lengths - 1, side="right")
        offsets = starts[(rng.random(n) * np.maximum(admissible, 1)).astype(np.int64)]
        ends = np.cumsum(lengths + 1)
        first = ends - lengths - 1
        # Source index of every output position, built as a cumulative sum of steps: +1 inside a piece,
        # a jump to the next piece's offset at its first position (cheaper than repeat + arange).
        steps = np.ones(int(ends[-1]) if n else 0, dtype=np.int64)
        if n:
            steps[first] = offsets - np.concatenate(([0], offsets[:-1] + lengths[:-1]))
        out = buffer[np.cumsum(steps)]
        out[ends - 1] = 0
        if self.char_class == "words":
            nonempty = first[lengths > 0]
            if self.case == "sentence":
                head = out[nonempty]
                out[nonempty] = np.where((head >= 97) & (head <= 122), head - 32, head)
            last = ends[lengths > 0] - 2
            out[last] = np.where(out[last] == 32, ord("."), out[last])
        values: list[str] = out.tobytes().decode("ascii").split("\0")[:n] if n else []
        if self.unique:
            return _strings(self._distinct(values, start, n), _null_mask(rng, n, self.null_fraction))
        return _strings(values, _null_mask(rng, n, self.null_fraction))

    def _distinct(self, values: list[str], start: int, n: int) -> np.ndarray:
        """``values`` made distinct over the whole table by the sequence numbers ``start + 1 .. start + n``."""
        seq = np.arange(start + 1, start + n + 1, dtype=np.int64)
        length = self.column.length
        if self.char_class != "words":
            charset = {"digits": _DIGITS, "upper": _UPPER, "lower": _LOWER, "alpha": _UPPER + _LOWER,
                       "alnum": _UPPER + _LOWER + _DIGITS}[self.char_class]
            base = len(charset)
            width = max(int(round(self.quantiles[len(self.quantiles) // 2])), 1)
            while base**width <= start + n:  # wider only when the rows need it
                width += 1
            if length is not None and width > length:
                raise self._error(f"{start + n} distinct values do not fit length {length}")
            space = base**width
            # the same width always gives the same bijection of [0, space), and another width another length:
            # values never repeat, whatever the batches
            numbers = (seq * _SCATTER + space // 3) % space if space < 2**31 else seq
            return _encode(numbers, charset, width).astype(object)
        tail = np.strings.add("-", seq.astype(str))
        body = np.asarray(values, dtype=object).astype(str)
        if length is not None:
            room = length - np.strings.str_len(tail)
            if (room < 0).any():
                raise self._error(f"distinct values with a numeric suffix do not fit length {length}")
            body = np.asarray([b[:r] for b, r in zip(body.tolist(), room.tolist())])
        # the suffix follows the last '-' and holds no '-': it alone tells values apart
        return np.strings.add(body.astype(str), tail).astype(object)

    def _buffer(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """A random ASCII buffer of at least ``size`` characters and the positions pieces may start at."""
        if self.char_class == "words":
            words = _words()
            chosen = words[rng.integers(len(words), size=size // 5 + 16)].tolist()
            text = " ".join(chosen)
            if self.case == "upper":
                text = text.upper()
            buffer = np.frombuffer(text.encode("ascii"), dtype=np.uint8).copy()
            starts = np.flatnonzero(np.concatenate(([True], buffer[:-1] == 32)))
            return buffer, starts
        charset = {
            "digits": _DIGITS,
            "upper": _UPPER,
            "lower": _LOWER,
            "alpha": _UPPER + _LOWER,
            "alnum": _UPPER + _LOWER + _DIGITS,
        }[self.char_class]
        chars = np.frombuffer(charset.encode("ascii"), dtype=np.uint8)
        buffer = chars[rng.integers(len(chars), size=size)]
        return buffer, np.arange(size, dtype=np.int64)

    def state(self) -> dict[str, Any]:
        return {"quantiles": self.quantiles, "char_class": self.char_class, "case": self.case, "unique": self.unique,
                "all_distinct": self.all_distinct, "distinct_ratio": self.distinct_ratio,
                "text": self.text.state() if self.text is not None else None}

    def load_state(self, data: dict[str, Any]) -> None:
        self.quantiles = [float(q) for q in data["quantiles"]]
        self.char_class = data.get("char_class", "words")
        self.case = data.get("case", "sentence")
        self.unique = bool(data.get("unique", False))  # older model files: repair keeps the column unique
        self.all_distinct = bool(data.get("all_distinct", False))
        self.distinct_ratio = float(data.get("distinct_ratio", 1.0))
        text = data.get("text")  # older model files: none, lorem ipsum as before
        self.text = TextModel.from_state(text) if text else None


# ---- unsupported ---------------------------------------------------------------------------------------
def placeholder(column: Column, n: int, rng: np.random.Generator) -> pd.Series:
    """``n`` copies of a valid value of ``column``'s type family (used for NOT NULL columns we cannot model).

    json gives ``{}``, array ``[]``, binary ``b''``, uuid random UUIDs, interval ``Timedelta(0)``, enum
    its first value, numbers 0, dates 1970-01-01, times midnight, strings and other types ``''``.
    """
    kind = column.type
    if kind == st.JSON:
        return pd.Series([{} for _ in range(n)], dtype=object)  # distinct objects: callers may mutate them
    if kind == st.ARRAY:
        return pd.Series([[] for _ in range(n)], dtype=object)
    if kind == st.BINARY:
        return pd.Series([b""] * n, dtype=object)
    if kind == st.UUID:
        return _strings(uuid_strings(rng, n))
    if kind == st.INTERVAL:
        return pd.Series(np.zeros(n, dtype="timedelta64[ns]"))
    if kind == st.INTEGER:
        return pd.Series(np.zeros(n, dtype=np.int64))
    if kind in (st.FLOAT, st.DECIMAL):
        return pd.Series(np.zeros(n, dtype=np.float64))
    if kind == st.BOOL:
        return pd.Series(np.zeros(n, dtype=bool))
    if kind in (st.DATE, st.TIMESTAMP):
        out = pd.Series(np.zeros(n, dtype="datetime64[ns]"))
        return out.dt.tz_localize("UTC") if column.timezone else out
    if kind == st.TIME:
        return pd.Series([_dt.time(0)] * n, dtype=object)
    if kind == st.ENUM and column.enum_values:
        return _strings(np.full(n, column.enum_values[0], dtype=object))
    if kind == st.OTHER:
        # '' is not a valid literal of every exotic type: use a neutral one where the native type needs it.
        native = (column.native_type or "").lower().split("(")[0].strip()
        return _strings(np.full(n, _NATIVE_PLACEHOLDERS.get(native, ""), dtype=object))
    return _strings(np.full(n, "", dtype=object))


#: Placeholders of ``other`` columns by native type (as text literals the database parses); default ''.
_NATIVE_PLACEHOLDERS: dict[str, str] = {
    "money": "0",
    "inet": "0.0.0.0",
    "cidr": "0.0.0.0/32",
    "macaddr": "00:00:00:00:00:00",
    "macaddr8": "00:00:00:00:00:00:00:00",
    "point": "(0,0)",
    "line": "{1,-1,0}",
    "lseg": "[(0,0),(0,0)]",
    "box": "(0,0),(0,0)",
    "path": "[(0,0)]",
    "polygon": "((0,0))",
    "circle": "<(0,0),0>",
    "bit": "0",
    "bit varying": "",
    "varbit": "",
    "int4range": "empty",
    "int8range": "empty",
    "numrange": "empty",
    "daterange": "empty",
    "tsrange": "empty",
    "tstzrange": "empty",
    "tsquery": "",
    "tsvector": "",
    "xml": "",
    "year": "2000",
    "interval": "00:00:00",
}


class PlaceholderGenerator(ColumnGenerator):
    """Unsupported columns: NULL where nullable, otherwise a valid placeholder (see :func:`placeholder`)."""

    kind = "placeholder"

    def generate(self, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
        """All NULL for a nullable column, else ``n`` placeholders of the column's type family."""
        if self.column.nullable:
            return pd.Series([None] * n, dtype=object)
        return placeholder(self.column, n, rng)


# ---- MariaDB SET ----------------------------------------------------------------------------------------
def _set_k() -> int:
    """k of the k rule (imported late: dbsynth.model imports this module)."""
    from .univariate import MIN_ROWS_PER_VALUE

    return MIN_ROWS_PER_VALUE


def _set_key(value: Any, index: dict[str, int]) -> tuple[int, ...]:
    parts = value if isinstance(value, (set, frozenset, list, tuple)) else str(value).split(",")
    # MariaDB compares members case-insensitively; parts that are no member (a valid value has none) are dropped
    return tuple(sorted({index[p] for p in (str(x).lower() for x in parts) if p in index}))


def fit_set(values: list, members: list[str]) -> dict[str, Any]:
    """The parameters of a MariaDB SET column's values (the ``set`` form of :mod:`dbsynth.model.typed`).

    The members are schema (the type's declaration), so they may be stored; what the rows hold obeys the
    k rule (k = :data:`~dbsynth.model.univariate.MIN_ROWS_PER_VALUE`): the shares of the combinations k or
    more rows hold are kept; the other rows are described only by each member's inclusion share and the
    shares of their member counts, a member or a count held by fewer than k of them being left out (and those
    rows with it, when nothing is left to describe them). A rare combination is never stored. With fewer
    than k rows nothing is kept, and every member is drawn with probability 1/2.

    Args:
        values: the non-NULL values: ``'a,b'`` strings (as :mod:`dbsynth.read` gives them) or sets of members.
        members: the SET's members in declaration order (:func:`~dbsynth.metadata.sdtypes.set_members`).

    Returns:
        ``{"combos": {value: share}, "rest": share, "inclusion": [share per member], "counts": [[count,
        share], ...]}`` for :func:`generate_set`.
    """
    k = _set_k()
    out: dict[str, Any] = {"combos": {}, "rest": 1.0, "inclusion": [0.5] * len(members), "counts": []}
    if not members or not len(values):
        return out
    index = {m.lower(): i for i, m in enumerate(members)}
    held: dict[tuple[int, ...], int] = {}
    for v in values:
        key = _set_key(v, index)
        held[key] = held.get(key, 0) + 1
    frequent = {key: c for key, c in held.items() if c >= k}
    rare = [(key, c) for key, c in held.items() if c < k]
    rare_rows = sum(c for _, c in rare)
    by_member = np.zeros(len(members), dtype=np.int64)
    by_count: dict[int, int] = {}
    for key, c in rare:
        by_member[list(key)] += c
        by_count[len(key)] = by_count.get(len(key), 0) + c
    counts = {size: c for size, c in by_count.items() if c >= k}
    # the rare rows are described when k of them agree on a count and k on some member; else they are left
    # out and the frequent shares renormalised
    described = bool(counts) and bool((by_member >= k).any())
    kept = sum(frequent.values()) + (rare_rows if described else 0)
    if not kept:
        return out
    out["combos"] = {",".join(members[i] for i in key): c / kept for key, c in frequent.items()}
    out["rest"] = rare_rows / kept if described else 0.0
    if described:
        out["inclusion"] = [float(c / rare_rows) if c >= k else 0.0 for c in by_member]
        total = sum(counts.values())
        out["counts"] = [[float(size), c / total] for size, c in sorted(counts.items())]
    return out


def generate_set(params: dict[str, Any], members: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` valid SET values (``str``: members in declaration order joined by commas, ``''`` for none) from
    :func:`fit_set`'s parameters: a learned combination by its share, else a member count drawn from the
    learned counts and that many distinct members drawn by their inclusion shares (weighted sampling without
    replacement, by Gumbel keys)."""
    out = np.full(n, "", dtype=object)
    if not members or not n:
        return out
    combos = dict(params.get("combos") or {})
    labels = list(combos)
    shares = np.asarray([float(combos[v]) for v in labels] + [float(params.get("rest", 1.0))], dtype=float)
    if shares.sum() <= 0:
        shares[-1] = 1.0
    pick = rng.choice(len(shares), size=n, p=shares / shares.sum())
    for i, v in enumerate(labels):
        out[pick == i] = v
    rows = np.flatnonzero(pick == len(labels))
    if not len(rows):
        return out
    m, r = len(members), len(rows)
    # "p": the per-member shares of models saved before combinations were kept
    weights = np.asarray(params.get("inclusion") or params.get("p") or [0.5] * m, dtype=float)[:m]
    if len(weights) < m:
        weights = np.concatenate([weights, np.zeros(m - len(weights))])
    counts = params.get("counts") or []
    if not counts:  # nothing learned: each member in or out by its share
        chosen = rng.random((r, m)) < weights
    else:
        sizes = np.asarray([c for c, _ in counts], dtype=np.int64)
        p = np.asarray([s for _, s in counts], dtype=float)
        size = np.minimum(sizes[rng.choice(len(sizes), size=r, p=p / p.sum())], int((weights > 0).sum()))
        with np.errstate(divide="ignore"):
            keys = np.log(weights)[None, :] - np.log(-np.log(rng.random((r, m)) + 1e-300))
        rank = np.empty((r, m), dtype=np.int64)
        rank[np.arange(r)[:, None], np.argsort(-keys, axis=1)] = np.arange(m)[None, :]
        chosen = rank < size[:, None]
    unique, inverse = np.unique(chosen, axis=0, return_inverse=True)
    values = np.asarray([",".join(members[j] for j in np.flatnonzero(row)) for row in unique], dtype=object)
    out[rows] = values[np.asarray(inverse).ravel()]
    return out


# ---- choosing a generator ------------------------------------------------------------------------------
def _fk_columns(table: Table | None) -> set[str]:
    return {c for fk in table.foreign_keys for c in fk.columns} if table is not None else set()


def is_unique(column: Column, table: Table | None) -> bool:
    """Whether ``column`` alone must hold distinct values: the table's one-column primary key or unique key."""
    if table is None:
        return False
    if table.primary_key == [column.name]:
        return True
    return any(u.columns == [column.name] for u in table.unique_constraints)


def generator_for(
    column: Column, table: Table | None = None, locales: list[str] | None = None
) -> ColumnGenerator | None:
    """The generator for a non-modelled column, or None when the model fills it.

    Args:
        column: the column.
        table: its table (tells foreign keys and unique constraints apart); optional.
        locales: Faker locales for PII (default ``['en_US']``).

    Returns:
        A :class:`KeyGenerator` (sdtype ``id``), :class:`PIIGenerator` (PII kinds, or ``Column.pii`` set on
        a text column), :class:`TextGenerator` (``text``), :class:`~dbsynth.model.typed.ValueGenerator`
        (``unsupported``, and MariaDB SET columns of any other non-modelled sdtype);
        None for modelled sdtypes, foreign-key columns and computed columns (never written).

    Raises:
        UnsupportedError: for an unknown sdtype or a Faker provider that does not exist.
    """
    name = table.name if table is not None else None
    if column.computed or column.name in _fk_columns(table) or column.sdtype in st.MODELLED:
        return None
    sdtype = column.sdtype
    if sdtype == st.ID:
        return KeyGenerator(column, name)
    if st.set_members(column.native_type):
        # a MariaDB SET: valid member combinations (the typed ``set`` form: fit_set, generate_set), whatever
        # its name or a PII setting suggests
        return _typed.ValueGenerator(column, name)
    if st.is_pii(sdtype) or (column.pii and sdtype == st.TEXT):
        provider = column.pii or st.PII_KINDS.get(sdtype, sdtype)
        return PIIGenerator(column, name, provider, locales, unique=is_unique(column, table))
    if sdtype == st.TEXT:
        return TextGenerator(column, name, unique=is_unique(column, table))
    if sdtype == st.UNSUPPORTED:
        # types the model does not learn: valid values of the type in the observed style
        # (dbsynth.model.typed), a note where that is not possible
        return _typed.ValueGenerator(column, name)
    raise UnsupportedError(f"unknown sdtype '{sdtype}'", table=name, column=column.name)


# The typed generators subclass ColumnGenerator: imported last, so that ``ColumnGenerator.from_dict`` knows
# their kind whichever module is imported first.
from . import typed as _typed  # noqa: E402 (after the base classes it subclasses: see above)
