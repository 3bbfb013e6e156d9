"""Choose each column's sdtype from its type, its name and (when available) cheap statistics.

Shared by reflection (statistics from SQL) and detection from DataFrames (statistics from the frames).
"""

from __future__ import annotations

import re

from . import sdtypes as st
from .records import Column, Metadata

__all__ = [
    "infer_sdtypes",
    "outside_sdtype",
    "sdtype_for",
    "pii_kind",
    "normalise_name",
    "CATEGORICAL_MAX_RATIO",
    "CATEGORICAL_MAX_DISTINCT",
]

#: A string column is categorical when it has at most this many distinct values...
CATEGORICAL_MAX_DISTINCT = 50
#: ...or when values repeat enough (distinct / non-NULL at most this).
CATEGORICAL_MAX_RATIO = 0.5
#: Location-like PII (city, country, state) only when values are mostly distinct; a handful of repeated
#: cities is a category worth modelling, not personal data.
LOCATION_MIN_RATIO = 0.5

# Normalised column name -> PII kind. Names are snake_cased first, so FirstName and first_name both match.
_PII_NAMES: dict[str, str] = {
    **dict.fromkeys(["email", "e_mail", "email_address", "mail"], "email"),
    **dict.fromkeys(["first_name", "firstname", "given_name", "forename"], "first_name"),
    **dict.fromkeys(["last_name", "lastname", "surname", "family_name"], "last_name"),
    **dict.fromkeys(["full_name", "fullname", "customer_name", "person_name", "contact_name"], "name"),
    **dict.fromkeys(
        ["phone", "phone_number", "telephone", "mobile", "mobile_phone", "cell_phone", "fax"], "phone_number"
    ),
    **dict.fromkeys(["address", "address1", "address2", "address_line1", "address_line2", "street", "street_address"],
                    "street_address"),
    **dict.fromkeys(["postal_code", "postcode", "zip", "zip_code", "zipcode"], "postcode"),
    **dict.fromkeys(["city", "town", "billing_city", "shipping_city"], "city"),
    **dict.fromkeys(["state", "province", "billing_state"], "state"),
    **dict.fromkeys(["country", "billing_country", "shipping_country"], "country"),
    **dict.fromkeys(["company", "company_name"], "company"),
    **dict.fromkeys(["username", "user_name", "login"], "user_name"),
    **dict.fromkeys(["password", "passwd", "password_hash"], "password"),
    **dict.fromkeys(["url", "website", "homepage"], "url"),
    **dict.fromkeys(["ssn", "social_security_number"], "ssn"),
    **dict.fromkeys(["iban"], "iban"),
    **dict.fromkeys(["credit_card", "credit_card_number", "card_number"], "credit_card_number"),
    **dict.fromkeys(["ip", "ip_address", "ipv4"], "ipv4_address"),
}
_LOCATION_KINDS = {"city", "state", "country"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def normalise_name(name: str) -> str:
    """``BillingCity`` / ``billing_city`` / ``Billing City`` -> ``billing_city``."""
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", name).lower()).strip("_")


_PREFIXES = ("billing_", "shipping_", "home_", "work_", "contact_", "customer_", "user_")


def pii_kind(name: str) -> str | None:
    """The PII kind a column name suggests (``email``, ``first_name``, ``BillingCity``...), or None."""
    norm = normalise_name(name)
    if norm in _PII_NAMES:
        return _PII_NAMES[norm]
    for prefix in _PREFIXES:  # billing_city is a city, customer_email an email
        if norm.startswith(prefix) and norm[len(prefix):] in _PII_NAMES:
            return _PII_NAMES[norm[len(prefix):]]
    return None


def infer_sdtypes(metadata: Metadata, stats: dict | None = None) -> None:
    """Set ``Column.sdtype`` of every column in place.

    Keys are ``id``: foreign-key columns, primary-key columns, and a ``*_id`` column declared unique (or whose
    statistics show every value distinct). A column whose foreign key points at a table that is not read
    (``Table.outside_foreign_keys``) is a plain value, numerical or categorical, unless it is a key of its own
    table by itself (a one-column primary key or unique constraint) or other tables refer to it: generated as
    a fresh key it would take one new value per row (more than its type may hold) and lose the repeats the
    data has. So is a ``*_id`` column no key covers: a reference the schema does not declare. Numbers are
    ``numerical``; dates and times ``datetime``; enums ``categorical``; json, arrays, binary and unknown types
    ``unsupported``; MariaDB SET columns ``text`` (generated as member combinations, not modelled); strings a
    PII kind by name, else ``categorical`` or ``text`` by their distinct ratio.

    Args:
        metadata: tables to update.
        stats: ``{table: {column: stats}}`` where a stats object has ``distinct`` and ``distinct_ratio``
            (:class:`dbsynth.reflect.stats.ColumnStats`).
    """
    stats = stats or {}
    referenced: dict[str, set[str]] = {}  # columns other tables' foreign keys point at: they stay keys
    for table in metadata:
        for fk in table.foreign_keys:
            referenced.setdefault(fk.ref_table, set()).update(fk.ref_columns)
    for table in metadata:
        refs = {c for fk in table.foreign_keys for c in fk.columns}
        alone = {uc.columns[0] for uc in table.unique_constraints if len(uc.columns) == 1}
        if len(table.primary_key) == 1:
            alone.add(table.primary_key[0])
        keep_key = refs | alone | referenced.get(table.name, set())
        outside = {c for fk in table.outside_foreign_keys for c in fk.columns} - keep_key
        keys = (set(table.primary_key) | refs) - outside
        unique = {c for uc in table.unique_constraints for c in uc.columns}
        texts = [ck.sqltext for ck in getattr(table, "check_constraints", None) or []]
        checked = {c.name for c in table.columns
                   if any(re.search(rf"(?<![\w$]){re.escape(c.name)}(?![\w$])", t, flags=re.IGNORECASE) for t in texts)}
        for col in table.columns:
            stat = stats.get(table.name, {}).get(col.name)
            if col.name in outside:
                col.sdtype = outside_sdtype(col)
            else:
                col.sdtype = sdtype_for(col, col.name in keys, stat, constrained=col.name in keys | unique,
                                        checked=col.name in checked)


def outside_sdtype(col: Column) -> str:
    """The sdtype of a reference column whose parent is not cloned: its observed values, as numbers (integers)
    or labels (text), never fresh keys."""
    if col.type == st.STRING:
        return st.CATEGORICAL
    if col.type == st.UUID:
        return st.ID  # random by nature: new ones are as good as the old
    return sdtype_for(col, False, None, constrained=False)


def sdtype_for(col: Column, is_key: bool, stat=None, *, constrained: bool | None = None, checked: bool = False) -> str:
    """The sdtype of ``col`` given whether it is a key and its statistics (``distinct``/``distinct_ratio``).

    Args:
        col: the column.
        is_key: whether it belongs to a primary or foreign key.
        stat: its statistics, when measured.
        constrained: whether a key or unique constraint covers it; None when the constraints are not known
            (then a ``*_id`` name alone makes an identifier). False: a ``*_id`` column is a key only when its
            statistics show every value distinct, else a value (an undeclared reference repeats its values).
        checked: whether a CHECK constraint names it (its labels are schema: a string column whose values are
            all distinct stays categorical, every label kept, instead of becoming generated text).
    """
    if is_key or col.type == st.UUID:
        return st.ID
    if col.type == st.STRING and st.set_members(col.native_type):
        # a MariaDB SET: combinations of its members, drawn by dbsynth.sample.SetGenerator (never modelled as
        # labels: the copula's made-up labels for rare combinations are no valid SET values), whatever its name
        return st.TEXT
    norm = normalise_name(col.name)
    if col.type in (st.INTEGER, st.STRING) and (norm == "id" or norm.endswith("_id")):
        distinct = stat is not None and stat.non_null > 0 and stat.distinct == stat.non_null
        if constrained is None or constrained or distinct:
            # an identifier (a unique one, or one whose constraints are not known): modelling it as a number
            # would invent arithmetic on labels
            return st.ID
        # no key covers it: a reference the schema does not declare, modelled as the values it holds
    family = col.type
    if family == st.BOOL:
        return st.BOOLEAN
    if family in (st.INTEGER, st.FLOAT, st.DECIMAL, st.INTERVAL):
        return st.NUMERICAL
    if family in (st.DATE, st.TIME, st.TIMESTAMP):
        return st.DATETIME
    if family == st.ENUM:
        return st.CATEGORICAL
    if family != st.STRING:
        return st.UNSUPPORTED
    kind = pii_kind(col.name)
    if kind in _LOCATION_KINDS:
        if stat is None or stat.distinct_ratio >= LOCATION_MIN_RATIO:
            return kind
        return st.CATEGORICAL
    if kind:
        return kind
    if stat is None:
        # Without statistics, short bounded strings are usually codes/labels, unbounded ones prose.
        return st.CATEGORICAL if col.length is not None and col.length <= 64 else st.TEXT
    if stat.non_null > 1 and stat.distinct == stat.non_null and not checked:
        # every value once (a lookup table's names: Genre, category, language): no label reaches the k rows a
        # category needs, so there is nothing to model; generated as text of the kind it holds, distinct like
        # the source (dbsynth.model.text)
        return st.TEXT
    if stat.distinct <= CATEGORICAL_MAX_DISTINCT or stat.distinct_ratio <= CATEGORICAL_MAX_RATIO:
        return st.CATEGORICAL
    return st.TEXT
