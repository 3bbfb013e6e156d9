"""Small scales break neither integrity nor termination (issue 14, item 10), without a server.

``HMASynthesizer.sample(scale=0.1)`` on Chinook left 266 ``InvoiceLine.TrackId`` values pointing at no track
(MediaType rounded to zero rows, and the NULL references of its grandchild were filled with made-up values);
HSA and Independent at 0.05 never returned (the Gaussian copula's two default sampling methods called each
other when a segment got no rows). Every scale, ``num_rows`` and seed must give a complete, valid database.
Pagila's checks need PostgreSQL: tests/integration/test_small_scales_pg.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from random_schema import database_problems
from test_hma_demo import demo_metadata, demo_tables

from dbsynth.config import BUILTIN_DATABASES
from dbsynth.model.tables import GaussianCopulaSynthesizer
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

SYNTHESIZERS = [HMASynthesizer, HSASynthesizer, IndependentSynthesizer]
CHINOOK = f"sqlite:///{BUILTIN_DATABASES['chinook']}"


@pytest.fixture(scope="module")
def datasets():
    md = reflect(CHINOOK)
    return {"chinook": (md, read_tables(CHINOOK, md)), "demo": (demo_metadata(), demo_tables())}


@pytest.fixture(scope="module")
def fitted(datasets):
    return {(name, cls): cls(md, seed=0, verbose=False).fit(data)
            for name, (md, data) in datasets.items() for cls in SYNTHESIZERS}


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", ["chinook", "demo"])
@pytest.mark.parametrize("scale", [0.0, 0.01, 0.05, 0.1, 0.3])
def test_small_scales_give_valid_databases(datasets, fitted, name, cls, scale):
    md, real = datasets[name]
    out = fitted[(name, cls)].sample(scale=scale)
    assert database_problems(md, real, out) == []


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
def test_chinook_at_a_tenth_keeps_every_table(datasets, fitted, cls):
    """The README's pytest example: scale 0.1 on Chinook is a small database, not an empty one (a five-row
    lookup table keeps a row at any positive scale, so the tables that need it exist)."""
    md, real = datasets["chinook"]
    out = fitted[("chinook", cls)].sample(scale=0.1)
    assert all(len(out[t]) > 0 for t in md.tables), {t: len(f) for t, f in out.items()}
    assert len(out["Track"]) < len(real["Track"])


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", ["chinook", "demo"])
def test_any_root_empty_or_tiny(datasets, fitted, name, cls):
    """A root with zero rows: its descendants get none, other children of theirs get none or NULL references
    (a NOT NULL reference to an empty table cannot exist); every root at one or two rows."""
    md, real = datasets[name]
    syn = fitted[(name, cls)]
    for root in md.graph().roots():
        out = syn.sample(num_rows={root: 0})
        assert len(out[root]) == 0
        assert database_problems(md, real, out) == [], root
    for n in (0, 1, 2):
        out = syn.sample(num_rows=n)
        assert database_problems(md, real, out) == [], n


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
def test_small_scales_in_batches_and_over_seeds(datasets, cls):
    md, real = datasets["chinook"]
    for seed in (1, 2):
        syn = cls(md, seed=seed, verbose=False).fit(real)
        from dbsynth.sample.refs import join_batches

        out = join_batches(md, syn.iter_sample(scale=0.05, batch_rows=7))
        assert database_problems(md, real, out) == [], seed


def test_gaussian_copula_segments_with_no_rows_return_empty_columns():
    """The recursion itself: every segment asked for zero rows, with and without shared transforms."""
    import pandas as pd

    from dbsynth.metadata import Column

    cols = [Column("x", "float", "numerical"), Column("c", "string", "categorical")]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=400), "c": rng.choice(list("ab"), 400)})
    shared, _ = GaussianCopulaSynthesizer.fit_segments(cols, {}, frame, lambda lat: np.arange(400) % 2, rng)
    own = [GaussianCopulaSynthesizer(cols).fit(frame.iloc[:200], rng), GaussianCopulaSynthesizer(cols).fit(frame, rng)]
    for synths in (shared, own, own[:1]):
        for sizes in ([0] * len(synths), [3] + [0] * (len(synths) - 1), [2] * len(synths)):
            got = GaussianCopulaSynthesizer.sample_segment_columns(synths, np.array(sizes), rng)
            assert set(got) == {"x", "c"} and all(len(s) == sum(sizes) for s in got.values())
            assert len(GaussianCopulaSynthesizer.sample_segments(synths, np.array(sizes), rng)) == sum(sizes)
