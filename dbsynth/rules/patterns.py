"""String patterns of CHECK constraints (``LIKE``, ``GLOB``, regular expressions): test values, make values.

A :class:`StringPattern` holds one pattern as a Python regular expression (what :meth:`StringPattern.matches`
tests) and knows how to make values that match it: :meth:`StringPattern.conform` keeps what it can of a
failing value (``LIKE 'C%'`` puts the old value after the ``C``), :meth:`StringPattern.fresh` draws new ones
(regular expressions and ``GLOB`` patterns are walked as a tree: literals, classes, bounded repeats,
groups and alternatives; draws are random and deterministic given the generator). :meth:`StringPattern.space`
counts the distinct values a pattern allows, so that a unique column whose pattern runs out of values is
named in an error instead of looping.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

try:  # Python 3.11+: the parser of the re module (its tree is what values are generated from)
    import re._constants as _src
    import re._parser as _sre
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _src
    import sre_parse as _sre

__all__ = ["PatternError", "StringPattern", "glob_to_regex", "like_to_regex", "posix_to_python", "regex_to_glob"]

#: Characters drawn where a pattern allows "any character" (``_``, ``.``, ``?``, a negated class): letters and
#: digits, which every collation, charset and column type accepts.
_SAFE = string.ascii_letters + string.digits
#: The universe negated classes are taken from: printable ASCII without blanks other than the space.
_UNIVERSE = "".join(chr(c) for c in range(32, 127))
#: How many repeats beyond the minimum an unbounded repeat (``*``, ``+``, ``{n,}``) is drawn with.
_OPEN_REPEAT = 3
#: A space larger than this is "large enough" (counting stops).
_HUGE = 10**18


class PatternError(ValueError):
    """A pattern this module cannot test or generate (the CHECK is then kept by redrawing rows, or opaque)."""


def like_to_regex(pattern: str, escape: str | None = "\\") -> str:
    """The Python regular expression (full match) of a SQL ``LIKE`` pattern.

    Args:
        pattern: the LIKE pattern (``%`` any run of characters, ``_`` one character).
        escape: the escape character (PostgreSQL and MySQL: backslash by default; SQLite: none).
    """
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape and c == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return "".join(out)


def glob_to_regex(pattern: str) -> str:
    """The Python regular expression (full match) of a SQLite ``GLOB`` pattern (``*``, ``?``, ``[...]``,
    ``[^...]``; case-sensitive)."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            start = i + 2 if pattern[i + 1: i + 2] == "^" else i + 1
            j = pattern.find("]", start + 1 if pattern[start: start + 1] == "]" else start)  # []...], [^]...]
            if j < 0:
                raise PatternError("unterminated [ in a GLOB pattern")
            body = pattern[i + 1: j]
            neg = body.startswith("^")
            body = body[1:] if neg else body
            # inside a class only ], \, ^ and - (kept as ranges) mean something to Python
            body = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append("[" + ("^" if neg else "") + body + "]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


#: Longest GLOB :func:`regex_to_glob` writes (a ``{n}`` repeat copies its atom n times).
_MAX_GLOB = 1000


def regex_to_glob(regex: str) -> str | None:
    """The SQLite ``GLOB`` pattern that accepts exactly the strings an anchored regular expression accepts; None
    when the regex has another shape.

    Converted: ``^...$`` made only of literals (a backslash before a character that is not a letter or digit
    makes it literal), ``.`` (``?``), bracket classes without ``[:`` or a backslash (``[a-z]``, ``[^0-9]``; GLOB
    reads them alike) and ``{n}`` repeats of one of these. Anything else (alternatives, groups, ``*``, ``+``,
    ``?``, ``{n,m}``, escapes such as ``\\d``, an unanchored regex, whose search semantics no GLOB has) gives
    None. GLOB is case-sensitive, as PostgreSQL's ``~`` is; from MariaDB's REGEXP, which ignores case under a
    ``_ci`` collation, the GLOB is stricter (it refuses the other case).
    """
    if len(regex) < 2 or not regex.startswith("^") or not regex.endswith("$") or regex.endswith("\\$"):
        return None
    body, out, i = regex[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body) or body[i + 1].isalnum():
                return None  # \d, \w, \1...: classes and references GLOB cannot spell
            lit = body[i + 1]
            atom = f"[{lit}]" if lit in "*?[" else lit
            i += 2
        elif c == "[":
            start = i + 2 if body[i + 1: i + 2] == "^" else i + 1
            j = body.find("]", start + 1 if body[start: start + 1] == "]" else start)  # []...], [^]...]
            cls = body[i: j + 1]
            if j < 0 or "[:" in cls or "\\" in cls or "[" in cls[1:]:
                return None
            atom, i = cls, j + 1
        elif c == ".":
            atom, i = "?", i + 1
        elif c in "^$|()*+?{}":
            return None
        else:
            atom, i = c, i + 1
        m = re.match(r"\{(\d+)\}", body[i:])
        if m:
            atom, i = atom * int(m.group(1)), i + m.end()
        out.append(atom)
        if sum(map(len, out)) > _MAX_GLOB:
            return None
    return "".join(out)


_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "xdigit": "0-9A-Fa-f", "punct": re.escape(string.punctuation),
    "word": "\\w", "blank": " \\t",
}


def posix_to_python(regex: str) -> str:
    """A POSIX/PCRE regular expression as PostgreSQL (``~``) or MariaDB (``REGEXP``) reads it, in Python's
    syntax: bracket classes such as ``[[:digit:]]`` become ranges; the rest is shared by the simple patterns
    CHECKs use (anything Python refuses raises :class:`PatternError`)."""
    def cls(m: re.Match) -> str:
        name = m.group(1)
        if name not in _POSIX_CLASSES:
            raise PatternError(f"unknown character class [:{name}:]")
        return _POSIX_CLASSES[name]

    out = re.sub(r"\[:(\w+):\]", cls, regex)
    try:
        re.compile(out)
    except re.error as e:
        raise PatternError(f"regular expression not understood: {e}") from None
    return out


# ---- the pattern record -----------------------------------------------------------------------------------
@dataclass
class StringPattern:
    """One string pattern of a CHECK, as a Python regex, with what makes values that match it.

    Attributes:
        kind: ``like``, ``glob`` or ``regex`` (how the CHECK spelt it).
        source: the pattern as the CHECK spelt it.
        regex: the Python regular expression.
        full: whether a value must match as a whole (LIKE, GLOB) or anywhere (regex search semantics).
        ignore_case: ``ILIKE``/``~*``: case is ignored when testing (values are still made as spelt).
    """

    kind: str
    source: str
    regex: str
    full: bool
    ignore_case: bool = False
    _compiled: re.Pattern = field(init=False, repr=False)
    _tree: object = field(init=False, repr=False, default=None)
    _like: list | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        flags = re.DOTALL | (re.IGNORECASE if self.ignore_case else 0)
        try:
            self._compiled = re.compile(self.regex, flags)
            self._tree = _sre.parse(self.regex, flags)
        except (re.error, OverflowError, RecursionError) as e:
            raise PatternError(f"pattern not understood: {e}") from None
        _check_tree(self._tree)  # raises PatternError for back-references and look-arounds

    @classmethod
    def like(cls, pattern: str, escape: str | None = "\\", ignore_case: bool = False) -> StringPattern:
        """The pattern of ``LIKE pattern`` (``ILIKE`` with ``ignore_case``)."""
        p = cls("like", pattern, like_to_regex(pattern, escape), True, ignore_case)
        p._like = _like_segments(pattern, escape)
        return p

    @classmethod
    def glob(cls, pattern: str) -> StringPattern:
        """The pattern of SQLite's ``GLOB pattern``."""
        return cls("glob", pattern, glob_to_regex(pattern), True)

    @classmethod
    def regexp(cls, pattern: str, ignore_case: bool = False) -> StringPattern:
        """The pattern of ``~ pattern`` (PostgreSQL) or ``REGEXP pattern`` (MySQL, MariaDB, SQLite)."""
        return cls("regex", pattern, posix_to_python(pattern), False, ignore_case)

    # ---- testing ----
    def matches(self, values: np.ndarray) -> np.ndarray:
        """Whether each value (a ``str``; None for NULL, which gives False) matches."""
        test = self._compiled.fullmatch if self.full else self._compiled.search
        return np.fromiter((isinstance(v, str) and test(v) is not None for v in values), dtype=bool,
                           count=len(values))

    # ---- making values ----
    def min_length(self) -> int:
        """The length of the shortest value the pattern allows."""
        return _length(self._tree, shortest=True)

    def conform(self, old: np.ndarray, rng: np.random.Generator, length: int | None = None) -> np.ndarray:
        """Values that match, one per ``old`` value: a LIKE pattern keeps the old value where its first ``%``
        stands (cut to ``length``); other patterns draw new values.

        Returns:
            An object array of ``str``.
        """
        if self._like is None:
            return self.fresh(len(old), rng, length)
        return _like_fill(self._like, [v if isinstance(v, str) else "" for v in old], rng, length)

    def fresh(self, n: int, rng: np.random.Generator, length: int | None = None) -> np.ndarray:
        """``n`` values drawn at random among those the pattern allows, each at most ``length`` long
        (values that cannot be made short enough are the shortest the pattern allows).

        Returns:
            An object array of ``str``.
        """
        if self._like is not None:
            # the % of a LIKE pattern gets a random alphanumeric run (4 to 8 characters: room for many values)
            runs = _random_strings(rng, n, 4, 8)
            return _like_fill(self._like, runs, rng, length)
        values = _gen(self._tree, n, rng, shortest=False)
        if length is not None and n:
            long = np.fromiter((len(v) > length for v in values), dtype=bool, count=n)
            if long.any():
                values[long] = _gen(self._tree, int(long.sum()), rng, shortest=True)
        return values

    def space(self, length: int | None = None) -> int | None:
        """How many distinct values the pattern allows (at most ``length`` long); None when there are more
        than can be counted (an open repeat, ``%``, ``*``) — the space never runs out then."""
        if self._like is not None and any(kind == "%" for kind, _ in self._like):
            return None
        n = _count(self._tree)
        if n is None or n >= _HUGE:
            return None
        if length is not None and _length(self._tree, shortest=False) > length:
            return None  # some values are too long: an upper bound would mislead; let the draws tell
        return n


# ---- LIKE: segments ---------------------------------------------------------------------------------------
def _like_segments(pattern: str, escape: str | None) -> list[tuple[str, str]]:
    """The LIKE pattern as (kind, text) pieces: ('lit', text), ('_', ''), ('%', '')."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape and c == escape and i + 1 < len(pattern):
            lit, i = pattern[i + 1], i + 2
        elif c in "%_":
            if not (c == "%" and out and out[-1][0] == "%"):  # %% is one %
                out.append((c, ""))
            i += 1
            continue
        else:
            lit, i = c, i + 1
        if out and out[-1][0] == "lit":
            out[-1] = ("lit", out[-1][1] + lit)
        else:
            out.append(("lit", lit))
    return out


def _like_fill(segments: list, fill: Sequence[str] | np.ndarray, rng: np.random.Generator,
               length: int | None) -> np.ndarray:
    """Values of a LIKE pattern: its literals, a random letter or digit per ``_``, ``fill[i]`` (cut to fit
    ``length``) in the first ``%`` and nothing in the others."""
    n = len(fill)
    fixed = sum(len(t) if k == "lit" else 1 if k == "_" else 0 for k, t in segments)
    room = None if length is None else max(length - fixed, 0)
    parts = []
    used = False
    for kind, text in segments:
        if kind == "lit":
            parts.append(np.full(n, text, dtype=object))
        elif kind == "_":
            parts.append(_random_strings(rng, n, 1, 1))
        elif not used:
            used = True
            parts.append(np.array([f if room is None else f[:room] for f in fill], dtype=object))
        # later %: empty
    if not parts:
        return np.full(n, "", dtype=object)
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def _random_strings(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """``n`` random strings of letters and digits, each ``lo`` to ``hi`` long."""
    if n == 0:
        return np.empty(0, dtype=object)
    chars = np.array(list(_SAFE))
    sizes = rng.integers(lo, hi + 1, n)
    grid = chars[rng.integers(len(chars), size=(n, hi))]
    return np.array(["".join(row[:k]) for row, k in zip(grid, sizes)], dtype=object)


# ---- regular expressions: the tree of re's parser ---------------------------------------------------------
LITERAL, NOT_LITERAL, ANY, IN, BRANCH, SUBPATTERN, AT = (
    _src.LITERAL, _src.NOT_LITERAL, _src.ANY, _src.IN, _src.BRANCH, _src.SUBPATTERN, _src.AT)
MAX_REPEAT, MIN_REPEAT, CATEGORY, RANGE, NEGATE = (
    _src.MAX_REPEAT, _src.MIN_REPEAT, _src.CATEGORY, _src.RANGE, _src.NEGATE)
POSSESSIVE_REPEAT = getattr(_src, "POSSESSIVE_REPEAT", None)
ATOMIC_GROUP = getattr(_src, "ATOMIC_GROUP", None)
MAXREPEAT = _src.MAXREPEAT
_REPEATS = {MAX_REPEAT, MIN_REPEAT} | ({POSSESSIVE_REPEAT} if POSSESSIVE_REPEAT is not None else set())

_CATEGORIES = {
    _src.CATEGORY_DIGIT: string.digits,
    _src.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    _src.CATEGORY_SPACE: " ",
}
_NOT_CATEGORIES = {
    _src.CATEGORY_NOT_DIGIT: string.digits,
    _src.CATEGORY_NOT_WORD: string.ascii_letters + string.digits + "_",
    _src.CATEGORY_NOT_SPACE: " \t\n\r\f\v",
}


def _check_tree(tree) -> None:
    for op, av in tree:
        if op in (LITERAL, NOT_LITERAL, ANY, AT, IN, CATEGORY):
            continue
        if op == BRANCH:
            for alt in av[1]:
                _check_tree(alt)
        elif op == SUBPATTERN:
            _check_tree(av[-1])
        elif op in _REPEATS:
            _check_tree(av[2])
        elif ATOMIC_GROUP is not None and op == ATOMIC_GROUP:
            _check_tree(av)
        else:
            raise PatternError(f"regular expression feature {op} is not generated")


def _charset(items) -> str:
    """The characters a class ``[...]`` allows (within printable ASCII)."""
    allowed: set[str] = set()
    negate = False
    for op, av in items:
        if op == NEGATE:
            negate = True
        elif op == LITERAL:
            allowed.add(chr(av))
        elif op == RANGE:
            lo, hi = av
            allowed.update(chr(c) for c in range(lo, min(hi, 0x10FFFF) + 1) if c < 0x3000)
        elif op == CATEGORY:
            if av in _CATEGORIES:
                allowed.update(_CATEGORIES[av])
            elif av in _NOT_CATEGORIES:
                outside = {c for c in _UNIVERSE if c not in _NOT_CATEGORIES[av]}
                allowed.update((outside & set(_SAFE)) or outside)
    if negate:
        allowed = {c for c in _UNIVERSE if c not in allowed}
        # what a negated class allows is drawn among letters and digits when it allows some (punctuation
        # in generated codes would look like noise)
        allowed = (allowed & set(_SAFE)) or allowed
    # letters and digits first: they are what codes are made of, and what every charset takes
    return "".join(sorted(allowed, key=lambda c: (c not in _SAFE, c)))


def _atom_chars(op, av) -> str | None:
    """The characters one single-character node allows, None when the node is not one character."""
    if op == LITERAL:
        return chr(av)
    if op == NOT_LITERAL:
        return "".join(c for c in _SAFE if ord(c) != av)
    if op == ANY:
        return _SAFE
    if op == IN:
        return _charset(av)
    if op == CATEGORY:
        return _charset([(CATEGORY, av)])
    return None


def _gen(tree, n: int, rng: np.random.Generator, shortest: bool) -> np.ndarray:
    """``n`` strings of the sequence ``tree`` (object array)."""
    out = np.full(n, "", dtype=object)
    for op, av in tree:
        out = out + _gen_node(op, av, n, rng, shortest)
    return out


def _gen_node(op, av, n: int, rng: np.random.Generator, shortest: bool) -> np.ndarray:
    chars = _atom_chars(op, av)
    if chars is not None:
        if not chars:
            raise PatternError("a character class allows no character")
        pool = np.array(list(chars), dtype=object)
        return pool[rng.integers(len(pool), size=n)]
    if op == AT:
        return np.full(n, "", dtype=object)
    if op == SUBPATTERN:
        return _gen(av[-1], n, rng, shortest)
    if ATOMIC_GROUP is not None and op == ATOMIC_GROUP:
        return _gen(av, n, rng, shortest)
    if op == BRANCH:
        alts = av[1]
        if shortest:
            best = min(range(len(alts)), key=lambda i: _length(alts[i], True))
            return _gen(alts[best], n, rng, shortest)
        pick = rng.integers(len(alts), size=n)
        out = np.full(n, "", dtype=object)
        for i, alt in enumerate(alts):
            rows = pick == i
            if rows.any():
                out[rows] = _gen(alt, int(rows.sum()), rng, shortest)
        return out
    if op in _REPEATS:
        lo, hi, sub = av
        top = lo + _OPEN_REPEAT if hi == MAXREPEAT else hi
        counts = np.full(n, lo) if shortest else rng.integers(lo, top + 1, size=n)
        out = np.full(n, "", dtype=object)
        for k in range(int(counts.max(initial=0))):
            rows = counts > k
            out[rows] = out[rows] + _gen(sub, int(rows.sum()), rng, shortest)
        return out
    raise PatternError(f"regular expression feature {op} is not generated")


def _length(tree, shortest: bool) -> int:
    """The shortest (or longest, open repeats capped) length of the values of ``tree``."""
    total = 0
    for op, av in tree:
        if _atom_chars(op, av) is not None:
            total += 1
        elif op == SUBPATTERN:
            total += _length(av[-1], shortest)
        elif ATOMIC_GROUP is not None and op == ATOMIC_GROUP:
            total += _length(av, shortest)
        elif op == BRANCH:
            sizes = [_length(a, shortest) for a in av[1]]
            total += min(sizes) if shortest else max(sizes)
        elif op in _REPEATS:
            lo, hi, sub = av
            k = lo if shortest else (lo + _OPEN_REPEAT if hi == MAXREPEAT else hi)
            total += k * _length(sub, shortest)
    return total


def _count(tree) -> int | None:
    """How many strings ``tree`` allows (None: unbounded)."""
    total = 1
    for op, av in tree:
        chars = _atom_chars(op, av)
        if chars is not None:
            k = len(chars) if op != ANY else None
            if k is None:
                return None
        elif op == AT:
            continue
        elif op == SUBPATTERN:
            k = _count(av[-1])
        elif ATOMIC_GROUP is not None and op == ATOMIC_GROUP:
            k = _count(av)
        elif op == BRANCH:
            parts = [_count(a) for a in av[1]]
            k = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        elif op in _REPEATS:
            lo, hi, sub = av
            if hi == MAXREPEAT:
                return None
            c = _count(sub)
            if c is None:
                return None
            k = sum(min(c**j, _HUGE) for j in range(lo, hi + 1))
        else:
            return None
        if k is None:
            return None
        total = min(total * k, _HUGE)
    return total
