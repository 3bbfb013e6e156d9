"""Values that look like their column on the shared datasets (issue 18): on Chinook and pagila, HMA's samples
hold no lorem-ipsum word in any text column whose real values are not lorem ipsum, and the lookup tables
(Chinook's Genre and MediaType; pagila's category, language and country) keep as many distinct labels as the
source, none of them a copy of a real one where they are generated."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import dbsynth
from dbsynth.metadata import sdtypes as st
from dbsynth.model.text import lorem_words
from dbsynth.read import read_tables
from dbsynth.synthesizers import HMASynthesizer

pytestmark = pytest.mark.db

CHINOOK = Path(dbsynth.__file__).parent / "data" / "chinook.sqlite"
LOOKUPS = {"chinook": [("Genre", "Name"), ("MediaType", "Name")],
           "pagila": [("category", "name"), ("language", "name"), ("country", "country")]}


def _each_value_once(s: pd.Series) -> bool:
    s = s.dropna()
    return len(s) > 1 and s.is_unique


def _lookups_as_text(md, frames) -> None:
    """The sdtype rule of issue 18 for reflected metadata (to be wired into ``infer.sdtype_for``): a string
    column whose values are each held once is text, not a category (no label reaches k rows). A no-op once
    wired; applied here so that these tests check the generators on the real lookups either way."""
    for table in md:
        for col in table.columns:
            values = frames[table.name][col.name]
            if col.sdtype == st.CATEGORICAL and col.type == st.STRING and _each_value_once(values):
                col.sdtype = st.TEXT


@pytest.fixture(scope="module")
def samples(pg_dataset):
    out = {}
    for name, url in (("chinook", f"sqlite:///{CHINOOK}"), ("pagila", pg_dataset("pagila"))):
        md = dbsynth.reflect(url)
        real = read_tables(url, md)
        _lookups_as_text(md, real)
        synthetic = HMASynthesizer(md, seed=7, verbose=False).fit(real).sample()
        out[name] = (md, real, synthetic)
    return out


def _words(s: pd.Series) -> set[str]:
    return {w.lower() for v in s.dropna().astype(str).str.strip() for w in v.split()}


@pytest.mark.parametrize("dataset", ["chinook", "pagila"])
def test_no_lorem_words_in_columns_whose_real_values_are_not_lorem(samples, dataset):
    md, real, synthetic = samples[dataset]
    checked, found = 0, {}
    for table in md:
        for col in table.columns:
            if col.type != st.STRING or col.sdtype == st.ID or col.name not in synthetic[table.name]:
                continue
            vocab = _words(real[table.name][col.name])
            if vocab and len(vocab & lorem_words()) >= 0.5 * len(vocab):
                continue  # the real column is lorem ipsum itself
            checked += 1
            # lorem words the real column does not use itself ("a", "in", "et" are English and Latin)
            lorem = (_words(synthetic[table.name][col.name]) & lorem_words()) - vocab
            if lorem:
                found[f"{table.name}.{col.name}"] = sorted(lorem)[:5]
    assert checked >= 10
    assert found == {}


@pytest.mark.parametrize("dataset,table,column", [(d, t, c) for d, pairs in LOOKUPS.items() for t, c in pairs])
def test_lookup_tables_keep_their_number_of_distinct_labels(samples, dataset, table, column):
    md, real, synthetic = samples[dataset]
    want = real[table][column].dropna().nunique()
    got = synthetic[table][column]
    assert len(got) == len(real[table])
    assert got.dropna().nunique() == want
    made = set(got.dropna().astype(str).str.strip())
    source = set(real[table][column].dropna().astype(str).str.strip())
    # generated: from Faker's lists (country, language) or the column's chain (never a copy of its names)
    if table in ("Genre", "MediaType", "category"):
        assert not made & source


@pytest.mark.parametrize("dataset", ["chinook", "pagila"])
def test_reflection_makes_lookup_names_text(pg_dataset, dataset):
    url = f"sqlite:///{CHINOOK}" if dataset == "chinook" else pg_dataset("pagila")
    md = dbsynth.reflect(url)
    sdtypes = {(t, c): md.tables[t].columns[[x.name for x in md.tables[t].columns].index(c)].sdtype
               for t, c in LOOKUPS[dataset]}
    assert st.CATEGORICAL not in set(sdtypes.values())  # text (or a Faker kind: country.country)
