"""Models, fit procedures and sampling strategies (the engine that samples with them is ``sample/engine.py``).

Modules:
    base: :class:`~dbsynth.model.base.Synthesizer`, what the three synthesizers share (settings, fitted models,
        sample / iter_sample checks, model files).
    strategy: the :class:`~dbsynth.model.strategy.TableStrategy` protocol: how one family draws a table.
    hma: :class:`HMASynthesizer` (and the legacy :class:`HMA1`) and its strategy; fold: its streaming fit.
    segmented, hsa, independent: the segment-based synthesizers and their strategy; tables: their pluggable
        single-table synthesizers.
    transforms, univariate, copula: per-column reversible transforms, marginals, the Gaussian copula.
    columns, typed, generators: per-column generators of the columns no copula models (keys, PII, text, other
        types).
    links, draws: what the fit learns of links between tables; stratified draws the strategies share.
    store: model files (zip of JSON + npz) and :func:`load_synthesizer`.
"""
