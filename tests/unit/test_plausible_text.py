"""Plausible values for non-personal text (issue 18): what a column holds is recognised from its name and
values, and values of that kind come back (Faker's lists, codes of the learned shape, new strings of a chain
in the real length distribution), never lorem ipsum unless the real column is lorem ipsum, never a rare real
value."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dbsynth
from dbsynth.metadata import Column, Table
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.detect import detect_from_dataframes
from dbsynth.model.columns import TextGenerator
from dbsynth.model.text import TextModel, fit_labels, lorem_words, rare_labels, recognise
from dbsynth.report.metrics import table_privacy

K = 5
CHINOOK = Path(dbsynth.__file__).parent / "data" / "chinook.sqlite"
COUNTRIES = ["France", "Germany", "Brazil", "Canada", "India", "Japan", "Chile", "Norway", "Poland", "Spain"]
GENRES = ["Rock", "Jazz", "Metal", "Alternative & Punk", "Rock And Roll", "Blues", "Latin", "Reggae", "Pop",
          "Soundtrack", "Bossa Nova", "Easy Listening", "Heavy Metal", "R&B/Soul", "Electronica/Dance", "World",
          "Hip Hop/Rap", "Science Fiction", "TV Shows", "Sci Fi & Fantasy", "Drama", "Comedy", "Alternative",
          "Classical", "Opera"]
GRID = [f"{a} {b}" for a in ["Night", "Summer", "Golden", "Broken", "Silent", "Electric", "Lonely", "Wild",
                               "Burning", "Endless", "Midnight", "Crystal", "Velvet", "Hollow", "Distant"]
          for b in ["River", "Dream", "Heart", "Road", "Fire", "Garden", "Train", "Mirror", "Storm", "Harbor",
                    "Window", "Letter", "Shadow", "Island"]]
TITLES = [GRID[i] for i in sorted(np.random.default_rng(5).choice(len(GRID), 120, replace=False))]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def fitted(values, name: str = "c", table: str = "t", unique: bool = False, length: int | None = None):
    return TextGenerator(Column(name, "string", "text", length=length), table, unique=unique).fit(pd.Series(values))


def lorem_in(generated, real) -> set[str]:
    """Generated words of Faker's lorem list that the real column does not use itself."""
    vocab = {w.lower() for v in real for w in str(v).split()}
    words = {w.lower() for v in generated if isinstance(v, str) for w in v.split()}
    return (words & lorem_words()) - vocab


# ---- recognisers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,table,values,kind", [
    ("country", "t", COUNTRIES, "country"),
    ("BillingCountry", "invoice", COUNTRIES, "country"),
    ("x", "t", COUNTRIES, "country"),  # by the values alone
    ("country", "t", ["FR", "DE", "BR", "CA"], "country_code"),
    ("name", "language", ["English", "Italian", "Japanese", "Mandarin", "French", "German"], "language"),
    ("currency", "t", ["Euro", "Japanese yen", "Swiss franc"], "currency"),
    ("currency", "t", ["EUR", "JPY", "CHF"], "currency_code"),
    ("publisher", "book", ["Acme Corp", "Globex", "Initech"], "company"),
    ("job_title", "staff", ["Engineer", "Nurse"], "job"),
    ("Title", "Employee", ["General Manager", "Sales Support Agent", "IT Staff"], "job"),
    ("colour", "t", ["Red", "Blue", "Green"], "color"),
    ("homepage", "t", ["https://a.example.org/x", "http://b.example.com"], "url"),
    ("x", "t", ["https://a.example.org/x", "http://b.example.com/y"], "url"),
    ("contact", "t", ["ops@example.org", "desk@example.com"], "email"),
    ("sku", "t", [f"SKU-{i:04d}" for i in range(50)], "code"),
    ("ref", "t", ["AB123", "CD456", "EF789"], "code"),
    ("name", "genre", GENRES, "label"),
    ("title", "album", TITLES, "words"),  # a small repeated vocabulary: a word chain
    ("title", "album", ["Let There Be Rock", "Big Ones", "Jagged Little Pill", "Facelift", "Restless and Wild"],
     "label"),
    ("notes", "t", ["Lorem ipsum dolor sit amet.", "Quia voluptas sit aspernatur aut odit."], "lorem"),
    ("description", "film", ["A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher",
                             "A Astounding Epistle of a Database Administrator And a Explorer who must Find a Car"],
     "prose"),
])
def test_recognise_kinds_from_names_and_values(name, table, values, kind):
    assert recognise(name, values, table) == kind


def test_a_name_the_values_contradict_is_not_believed():
    # "state" holding workflow states is not a US state: its values decide
    assert recognise("state", ["open", "closed", "pending review", "archived"], "ticket") == "label"


def test_char_padded_values_are_recognised():
    assert recognise("name", [v.ljust(20) for v in ["English", "Italian", "Japanese", "French"]], "language") \
        == "language"


# ---- generators of each kind -----------------------------------------------------------------------------
def test_country_column_gives_faker_country_names():
    from faker.providers.address.en import Provider

    gen = fitted(COUNTRIES * 3 + ["Peru"], name="country")
    out = gen.generate(500, rng())
    assert out.notna().all() and out.isin(set(Provider.countries)).all()
    assert out.nunique() > 50


def test_codes_follow_the_learned_shape_and_prefix():
    real = [f"SKU-{i:04d}" for i in rng(1).choice(10_000, 400, replace=False)]
    gen = fitted(real, name="sku")
    out = gen.generate(2000, rng())
    assert out.str.fullmatch(r"SKU-\d{4}").all()  # the prefix every value shares is kept, digits drawn
    assert out.nunique() > 1000


def test_mixed_code_shapes_keep_their_shares():
    real = [f"AB{i:03d}" for i in range(300)] + [f"X-{i:02d}" for i in range(100)]
    out = fitted(real, name="ref").generate(400, rng())  # every real code distinct: so are these
    assert out.is_unique and out.str.fullmatch(r"[A-Z]{2}\d{3}|X-\d{2}").all()
    assert 0.65 < out.str.match(r"[A-Z]{2}\d{3}").mean() < 0.85


def chinook_column(table: str, column: str) -> list[str]:
    with sqlite3.connect(CHINOOK) as conn:
        return [r[0] for r in conn.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')]


def test_char_model_keeps_the_length_distribution_and_never_copies_a_rare_value():
    real = chinook_column("Album", "Title")  # 347 distinct titles, each once: all rare
    gen = fitted(real, name="title", table="album")
    assert gen.text is not None and gen.text.kind == "label"
    assert not set(gen.text.pool) & set(real)
    out = gen.generate(len(real), rng())  # as many as the source: distinct, like it
    assert out.is_unique and not set(out) & set(real)
    runs = pd.concat([gen.generate(len(real), rng(seed)) for seed in range(1, 5)])  # the tail is noisy
    want = np.quantile([len(v) for v in real], [0.1, 0.5, 0.9])
    got = np.quantile(runs.str.len(), [0.1, 0.5, 0.9])
    assert np.allclose(got, want, rtol=0.1, atol=2)


def test_a_chain_over_a_grid_of_words_never_gives_back_a_real_value():
    # 120 of the 210 "adjective noun" titles: most strings the chain makes are grid titles, half of them real
    model = TextModel.fit(TITLES, column="title", kind="label", min_count=K)
    assert len(model.pool) >= len(TITLES) and not set(model.pool) & set(TITLES)


def test_rare_values_are_broken_out_of_the_chain():
    # every 4-letter word over "ab": each one's transitions are shared by others, so an unbroken chain
    # retraces many of them
    real = [f"{a}{b}{c}{d}" for a in "ab" for b in "ab" for c in "ab" for d in "ab"] * 1
    real += [f"{a}{b}{c}{d}{e}" for a in "ab" for b in "ab" for c in "ab" for d in "ab" for e in "ab"]
    model = TextModel.fit(real, column="c", kind="label", min_count=K)
    made = set(model.pool)
    assert made and not made & set(real)


def test_common_words_of_prose_come_back_rare_ones_never():
    subjects = ["Dentist", "Monkey", "Teacher", "Astronaut", "Cat", "Dog", "Boy", "Girl", "Robot", "Car",
                "Pilot", "Sailor", "Poet", "Baker", "Farmer", "Knight", "Wizard", "Nurse", "Judge", "Clown"]
    places = ["Ancient India", "The Sahara Desert", "A Shark Tank", "The Canadian Rockies", "Nigeria",
              "A Jet Boat", "The Outback", "A Baloon Factory"]
    kinds = ["Epic", "Taut", "Fateful", "Boring", "Lacklusture", "Brilliant", "Emotional", "Insightful"]
    r = rng(2)
    real = [f"A {r.choice(kinds)} {r.choice(['Drama', 'Saga', 'Story'])} of a {r.choice(subjects)} who must "
            f"{r.choice(['Battle', 'Find', 'Chase', 'Outrace'])} a {r.choice(subjects)} in {r.choice(places)}"
            for _ in range(400)]
    real.append("A Secret Zebulon Quixotic Memoir")  # rare words: never stored, never generated
    gen = fitted(real, name="description", table="film")
    assert gen.text is not None and gen.text.kind == "prose"
    out = gen.generate(2000, rng())
    words = {w for v in out for w in v.split()}
    assert "Zebulon" not in words and "Quixotic" not in words
    assert {"Drama", "Dentist", "India"} <= words
    assert "Zebulon" not in json.dumps(gen.to_dict())
    assert not lorem_in(out, real)


@pytest.mark.parametrize("values,name,table", [
    (COUNTRIES * 2, "country", "customer"),
    (GENRES, "name", "genre"),
    (TITLES, "title", "album"),
    ([f"SKU-{i:04d}" for i in range(200)], "sku", "item"),
    (["Open", "Closed", "Pending"] * 30 + ["On Hold"], "status", "ticket"),
])
def test_no_lorem_words_unless_the_real_column_is_lorem(values, name, table):
    out = fitted(values, name=name, table=table).generate(3000, rng())
    assert out.notna().all() and (out.str.len() > 0).all()
    assert not lorem_in(out, values)


def test_a_lorem_column_stays_lorem():
    real = ["Lorem ipsum dolor sit amet consectetur.", "Quia voluptas sit aspernatur aut odit aut fugit."] * 20
    gen = fitted(real, name="notes")
    assert gen.text is None  # the lorem generator, as before
    assert lorem_in(gen.generate(200, rng()), [])


# ---- uniqueness, lookups, the model file --------------------------------------------------------------
def test_lookup_names_stay_distinct_and_of_the_sources_count():
    frame = pd.DataFrame({"GenreId": range(1, 26), "Name": GENRES})
    md = detect_from_dataframes({"Genre": frame})
    col = md.tables["Genre"].get_column("Name") if hasattr(md.tables["Genre"], "get_column") else next(
        c for c in md.tables["Genre"].columns if c.name == "Name")
    assert col.sdtype == st.TEXT  # every label once: nothing to model as a category
    gen = TextGenerator(col, "Genre").fit(frame["Name"])
    out = gen.generate(25, rng())
    assert out.nunique() == 25
    assert not set(out) & set(GENRES)
    assert not lorem_in(out, GENRES)


@pytest.mark.parametrize("values,name", [(COUNTRIES * 2, "country"), (GENRES, "name"), (TITLES, "title")])
def test_unique_columns_stay_unique_across_batches_past_the_pool(values, name):
    gen = fitted(values, name=name, table="genre", unique=True, length=40)
    r = rng()
    out = pd.concat([gen.generate(n, r, start=s) for s, n in [(0, 20), (20, 300), (320, 3000)]], ignore_index=True)
    assert out.is_unique and out.str.len().max() <= 40
    again = TextGenerator.from_dict(json.loads(json.dumps(gen.to_dict())))
    assert again.generate(20, rng(), start=0).tolist() == out[:20].tolist()  # batches follow one sequence


def test_model_state_holds_no_rare_value():
    real = TITLES + ["Zanzibar Quartet Nocturne"]
    gen = fitted(real, name="title", table="album")
    blob = json.dumps(gen.to_dict())
    assert not [v for v in real if v in blob]
    rebuilt = TextGenerator.from_dict(json.loads(blob))
    assert rebuilt.generate(50, rng()).tolist() == gen.generate(50, rng()).tolist()


def test_rare_labels_of_a_categorical_are_of_the_recognised_kind():
    from faker.providers.address.en import Provider

    labels = ["Brazil", "Canada", "Chile", "Peru", "Norway", "Japan"]
    counts = [40, 30, 1, 2, 1, 3]
    state = fit_labels("BillingCountry", labels, counts, min_count=K)
    assert state is not None and state["kind"] == "country"
    made = rare_labels("BillingCountry", state, 4)
    assert len(set(made)) == 4 and set(made) <= set(Provider.countries)
    genre = fit_labels("Name", GENRES, [1] * len(GENRES), min_count=K, table="genre")
    assert genre is not None
    names = rare_labels("Name", genre, 25)
    assert len(set(names)) == 25 and not set(names) & set(GENRES)
    assert not [g for g in GENRES if len(g) > 3 and g in json.dumps(genre)]
    lorem = ["Lorem ipsum dolor", "Sit amet consectetur", "Quia voluptas sit"]
    assert fit_labels("notes", lorem, [1, 1, 1], min_count=K) is None  # the generated letters stay


def test_privacy_report_still_flags_a_rare_real_label_coming_back():
    table = Table(name="t", columns=[Column("country", "string", "categorical")])
    real = pd.DataFrame({"country": ["Brazil"] * 20 + ["Chile"]})
    clean = pd.DataFrame({"country": ["Brazil"] * 10 + ["Peru"]})
    leaked = pd.DataFrame({"country": ["Brazil"] * 10 + ["Chile"]})
    assert table_privacy(table, real, clean).rare_labels == {}
    assert table_privacy(table, real, leaked).rare_labels == {"country": 1}


def test_fit_and_generate_are_fast_on_a_large_column():
    import time

    r = rng(3)
    syll = np.asarray(["ka", "lo", "mi", "ne", "ro", "su", "ta", "vi", "zo", "be", "da", "fu"])
    parts = syll[r.integers(len(syll), size=(200_000, 4))]
    real = pd.Series(["".join(p[:2]) + " " + "".join(p[2:]) for p in parts.tolist()])
    t0 = time.perf_counter()
    gen = fitted(real, name="title")
    out = gen.generate(1_000_000, rng())
    assert time.perf_counter() - t0 < 20
    assert len(out) == 1_000_000 and bool(re.fullmatch(r"[a-z ]+", out.iloc[0]))


def test_the_fit_does_not_depend_on_the_process_hash_seed():
    # set iteration order changes with PYTHONHASHSEED: the model (and so the values) must not
    import subprocess
    import sys

    code = ("import json, hashlib; from dbsynth.model.text import TextModel; "
            "from tests.unit.test_plausible_text import GENRES; "
            "m = TextModel.fit(GENRES, column='Name', table='Genre'); "
            "print(hashlib.md5(json.dumps([m.state(), m.pool]).encode()).hexdigest())")
    root = Path(__file__).resolve().parents[2]
    outs = {subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout for seed in (1, 2, 3)}
    assert len(outs) == 1


def test_a_nearly_distinct_column_keeps_its_distinct_count():
    real = chinook_column("Album", "Title")[:300]
    real = real + real[:20]  # 300 distinct of 320
    out = fitted(real, name="title", table="album").generate(320, rng())
    assert out.nunique() == 300
