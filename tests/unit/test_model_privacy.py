"""Model files hold no value of fewer than k source rows (issue 14, item 5).

The scan opens the WHOLE model file: every zip member, the JSON text (strings as substrings, numbers as
numbers) and every array of the npz. It looks for every distinct source value of every column that fewer
than k rows hold: strings as substrings of any stored string, numbers within a relative tolerance of any
stored number, dates and timestamps in every encoding a model could store them (float epoch seconds, epoch
days, int64 nanoseconds).

What is left out of the numeric scan, and why: key and foreign-key columns (their values are sequence
positions 1..n that dbsynth regenerates, and every model stores counts and sizes of that magnitude), and
integers of magnitude below 1000 (any model holds small integers: digit counts, widths, child counts, row
counts; a rare small integer cannot be told apart from them). Strings are scanned whatever their length
beyond 3 characters (shorter ones are substrings of anything).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dbsynth
from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.read import read_tables
from dbsynth.synthesizers import HMASynthesizer

K = 5
CHINOOK = Path(dbsynth.__file__).parent / "data" / "chinook.sqlite"
_REL = 1e-9


# ---- the scan -------------------------------------------------------------------------------------------
def _model_contents(path: Path) -> tuple[list[str], np.ndarray]:
    """Every string and every number stored anywhere in the model file."""
    strings: list[str] = []
    numbers: list[float] = []

    def walk(obj):
        stack = [obj]
        while stack:
            cur = stack.pop()
            if isinstance(cur, dict):
                strings.extend(str(k) for k in cur)
                stack.extend(cur.values())
            elif isinstance(cur, list):
                stack.extend(cur)
            elif isinstance(cur, bool) or cur is None:
                continue
            elif isinstance(cur, (int, float)):
                numbers.append(float(cur))
            elif isinstance(cur, str):
                strings.append(cur)

    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            raw = zf.read(info)
            if info.filename.endswith(".json"):
                walk(json.loads(raw))
            elif info.filename.endswith(".npz"):
                with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
                    for key in npz.files:
                        a = npz[key]
                        if a.dtype.kind in "iufb":
                            numbers.extend(a.astype(float).ravel().tolist())
                        elif a.dtype.kind == "M":
                            numbers.extend(a.astype("int64").astype(float).ravel().tolist())
                        else:
                            strings.extend(str(v) for v in a.ravel())
            else:  # any other member is scanned as text
                strings.append(raw.decode("utf-8", "replace"))
    return strings, np.unique(np.asarray(numbers, dtype=float))


def _common_values(frames: dict[str, pd.DataFrame]) -> tuple[str, np.ndarray]:
    """Values K rows or more of some column hold (joined strings, sorted numbers): a model may keep those."""
    texts, nums = [], []
    for frame in frames.values():
        for name in frame.columns:
            s = frame[name].dropna()
            counts = s.astype(str).value_counts()
            common = counts[counts >= K].index
            texts.extend(common)
            nums.extend(v for v in pd.to_numeric(pd.Series(common, dtype=object), errors="coerce").dropna())
    return "\x00".join(texts), np.unique(np.asarray(nums, dtype=float))


def _rare_values(frames: dict[str, pd.DataFrame], metadata: Metadata) -> tuple[list[tuple], list[tuple]]:
    """(table, column, value) of every distinct value fewer than K rows of its column hold, strings and
    numbers apart, leaving out values that K rows of another column hold (``Customer.City`` 'Prague' of one
    customer is ``Invoice.BillingCity`` of seven invoices) and strings inside such values ('Green' inside
    the composer 'Billie Joe Armstrong -Words Green Day -Music')."""
    texts, nums = _rare_values_per_column(frames, metadata)
    common_text, common_nums = _common_values(frames)
    texts = [(t, c, v) for t, c, v in texts if v not in common_text]
    nums = [(t, c, v) for t, c, v in nums if not _near(common_nums, v)]
    return texts, nums


def _near(sorted_numbers: np.ndarray, v: float) -> bool:
    i = np.searchsorted(sorted_numbers, v)
    near = sorted_numbers[max(i - 1, 0): i + 1]
    return bool(len(near) and np.any(np.abs(near - v) <= _REL * max(abs(v), 1.0)))


def _rare_values_per_column(frames, metadata) -> tuple[list[tuple], list[tuple]]:
    texts, nums = [], []
    for t, frame in frames.items():
        table = metadata.tables[t]
        keys = set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
        for col in table.columns:
            if col.name not in frame:
                continue
            s = frame[col.name].dropna()
            counts = s.astype(str).value_counts() if s.dtype == object else s.value_counts()
            for value in counts[counts < K].index:
                if pd.api.types.is_datetime64_any_dtype(s):
                    ts = pd.Timestamp(value)
                    ns = ts.value if ts.tzinfo is None else ts.tz_convert("UTC").value
                    for enc in (ns / 1e9, ns / 86400e9, float(ns)):
                        nums.append((t, col.name, enc))
                    texts.append((t, col.name, str(ts)))
                elif isinstance(value, str):
                    if len(value) > 3:
                        texts.append((t, col.name, value))
                    try:
                        v = float(value)
                    except ValueError:
                        continue
                    if col.name not in keys and np.isfinite(v) and not (v == int(v) and abs(v) < 1000):
                        nums.append((t, col.name, v))
                elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                    v = float(value)
                    if col.name in keys or (v == int(v) and abs(v) < 1000):
                        continue
                    nums.append((t, col.name, v))
    return texts, nums


def _leaks(path: Path, frames, metadata) -> list[str]:
    strings, numbers = _model_contents(path)
    blob = "\x00".join(strings)
    texts, nums = _rare_values(frames, metadata)
    found = [f"{t}.{c}: string {v!r}" for t, c, v in texts if v in blob]
    found += [f"{t}.{c}: number {v!r}" for t, c, v in nums if _near(numbers, v)]
    return found


# ---- data -----------------------------------------------------------------------------------------------
def crafted() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """A rare label among 1,000 rows, a text key with a prefix, a timestamp key and a small employees table."""
    rng = np.random.default_rng(7)
    n = 1000
    labels = rng.choice(["alpha", "beta", "gamma"], size=n).astype(object)
    labels[137] = "RARE-LABEL-JohnDoe-SSN-123456789"
    accounts = pd.DataFrame({
        "code": [f"SECRETACCT-{i:06d}" for i in range(1, n + 1)],
        "kind": labels,
        "amount": np.round(rng.gamma(2.0, 50.0, n), 2),
        "opened": pd.Timestamp("2017-03-04 05:06:07") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
        "employee_id": rng.integers(1, 9, n),
    })
    events = pd.DataFrame({
        "at": pd.Timestamp("2019-07-08 09:10:11") + pd.to_timedelta(np.arange(300) * 7 + 3, unit="s"),
        "note": rng.choice(["open", "close"], size=300).astype(object),
    })
    employees = pd.DataFrame({
        "employee_id": np.arange(1, 9),
        "birth_date": pd.to_datetime(["1961-02-03", "1958-12-08", "1973-08-29", "1947-09-19",
                                      "1965-03-03", "1973-07-01", "1970-05-29", "1968-01-09"]),
        "salary": [83121.5, 61234.25, 99873.0, 45678.75, 70001.5, 58888.25, 77777.0, 123456.5],
        "title": ["General Manager", "Sales Manager", "Sales Support Agent", "Sales Support Agent",
                  "Sales Support Agent", "IT Manager", "IT Staff", "IT Staff"],
    })
    md = Metadata(tables={
        "employees": Table("employees", [
            Column("employee_id", "integer", "id", nullable=False),
            Column("birth_date", "date", "datetime"),
            Column("salary", "decimal", "numerical", precision=10, scale=2),
            Column("title", "string", "categorical", length=30),
        ], primary_key=["employee_id"]),
        "accounts": Table("accounts", [
            Column("code", "string", "id", nullable=False, length=20),
            Column("kind", "string", "categorical", length=40),
            Column("amount", "decimal", "numerical", precision=10, scale=2),
            Column("opened", "timestamp", "datetime"),
            Column("employee_id", "integer", "id"),
        ], primary_key=["code"], foreign_keys=[ForeignKey(["employee_id"], "employees", ["employee_id"])]),
        "events": Table("events", [
            Column("at", "timestamp", "id", nullable=False),
            Column("note", "string", "categorical", length=10),
        ], primary_key=["at"]),
    })
    return md, {"employees": employees, "accounts": accounts, "events": events}


@pytest.fixture(scope="module")
def chinook():
    url = f"sqlite:///{CHINOOK}"
    md = dbsynth.reflect(url)
    return md, read_tables(url, md)


# ---- tests ----------------------------------------------------------------------------------------------
def test_crafted_model_file_holds_no_rare_source_value(tmp_path):
    md, frames = crafted()
    syn = HMASynthesizer(md, seed=3, verbose=False).fit(frames)
    path = syn.save(tmp_path / "m.zip")
    assert _leaks(path, frames, md) == []
    raw = b"".join(zipfile.ZipFile(path).read(m) for m in zipfile.ZipFile(path).namelist())
    for secret in (b"RARE-LABEL", b"JohnDoe", b"SECRETACCT", b"2019-07-08"):
        assert secret not in raw
    out = dbsynth.load_synthesizer(path).sample(scale=1.0)
    acc = out["accounts"]
    assert "RARE-LABEL-JohnDoe-SSN-123456789" not in set(acc["kind"].dropna())
    assert not acc["code"].str.startswith("SECRETACCT").any()
    # the key keeps the shape: ten capitals, a dash and six digits, unique, within the column's length
    assert acc["code"].str.fullmatch(r"[A-Z]{10}-\d{6}").all() and acc["code"].is_unique
    assert (acc["code"].str.len() <= 20).all()
    assert out["events"]["at"].is_unique and out["events"]["at"].min() == pd.Timestamp("2000-01-01")
    assert len(out["employees"]) == 8


def test_rare_labels_sample_as_generated_labels_in_the_columns_style():
    md, frames = crafted()
    syn = HMASynthesizer(md, seed=3, verbose=False).fit(frames)
    titles = syn.sample(scale=2.0)["employees"]["title"].dropna()
    real = set(frames["employees"]["title"])
    assert not set(titles) & real  # every title is held by fewer than 5 employees
    assert titles.nunique() > 1
    # labels of the column's kind (job titles here), made up, none of them a real rare one
    assert titles.map(lambda v: bool(re.fullmatch(r"[A-Z][\w ,&()/.'-]*", v))).all()


@pytest.mark.parametrize("cls", [HMASynthesizer, dbsynth.HSASynthesizer, dbsynth.IndependentSynthesizer])
def test_chinook_model_file_holds_no_rare_source_value(tmp_path, chinook, cls):
    md, frames = chinook
    path = cls(md, seed=1, verbose=False).fit(frames).save(tmp_path / "chinook.zip")
    texts, nums = _rare_values(frames, md)
    assert len(texts) > 1000 and len(nums) > 1000  # the scan has something to find
    assert _leaks(path, frames, md) == []


@pytest.mark.parametrize("cls", [dbsynth.HSASynthesizer, dbsynth.IndependentSynthesizer])
def test_crafted_model_file_of_segment_synthesizers_holds_no_rare_source_value(tmp_path, cls):
    md, frames = crafted()
    path = cls(md, seed=1, verbose=False).fit(frames).save(tmp_path / "m.zip")
    assert _leaks(path, frames, md) == []


def test_small_table_marginals_hold_window_means_not_rows():
    from dbsynth.model import univariate

    days = np.array([-3254.0, -4042.0, 1337.0, -8139.0, -1765.0, 1277.0, 149.0, -723.0])
    q = univariate.fit_marginal(days, "empirical")["quantiles"]
    assert not np.isin(q, days).any()
    gap = np.diff(np.sort(days)).min()
    assert abs(q[0] - np.sort(days)[:K].mean()) < gap and abs(q[-1] - np.sort(days)[-K:].mean()) < gap
    # a level shared by k rows or more is kept exactly; one of fewer rows is moved off
    rating = np.array([1.0] * 40 + [2.0] * 30 + [3.0] * 20 + [4.0] * 9 + [5.0] * 1)
    q = univariate.fit_marginal(rating, "empirical")["quantiles"]
    assert {1.0, 2.0, 3.0, 4.0} <= set(q) and 5.0 not in set(q)


def test_big_column_quantiles_are_essentially_unchanged():
    from dbsynth.model import univariate

    x = np.random.default_rng(0).lognormal(3.0, 1.0, 5000)
    q = univariate.fit_marginal(x, "empirical")
    exact = np.quantile(x, q["probs"])
    inner = slice(1, -1)
    assert np.allclose(q["quantiles"][inner], exact[inner], rtol=0.02)
    assert not np.isin(q["quantiles"], x).any()


@pytest.mark.parametrize("cls", [HMASynthesizer, dbsynth.HSASynthesizer])
def test_labels_a_check_constraint_names_are_kept(cls):
    """A generated label would break ``CHECK (status IN (...))`` in the target: the schema fixes those labels."""
    from dbsynth.metadata import CheckConstraint
    from dbsynth.model.transforms import checked_columns

    table = Table("orders", [
        Column("id", "integer", "id", nullable=False),
        Column("status", "string", "categorical", nullable=False),
        Column("note", "string", "categorical"),
    ], primary_key=["id"], check_constraints=[CheckConstraint("\"Status\" IN ('open', 'closed', 'lost')")])
    assert checked_columns(table) == {"status"}
    md = Metadata(tables={"orders": table})
    frame = pd.DataFrame({"id": np.arange(1, 201), "status": ["open"] * 120 + ["closed"] * 78 + ["lost"] * 2,
                          "note": ["x"] * 199 + ["SECRET-NOTE-42"]})
    out = cls(md, seed=4, verbose=False).fit({"orders": frame}).sample(scale=5.0)["orders"]
    assert set(out["status"]) <= {"open", "closed", "lost"}
    assert "SECRET-NOTE-42" not in set(out["note"].dropna())
