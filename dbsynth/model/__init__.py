"""Models, fit procedures and sampling strategies. This package never samples: the engine that does is
``sample/engine.py``, and the public synthesizers that compose a fit with it are ``dbsynth/synthesizers.py``.

Modules:
    base: :class:`~dbsynth.model.base.FittedModel`, what the three fit procedures share (settings, fitted
        models, progress, random streams, saving).
    strategy: the :class:`~dbsynth.model.strategy.TableStrategy` protocol: how one family draws a table.
    hma: :class:`~dbsynth.model.hma.HMAFit` and its strategy; fold: its streaming fit.
    segmented, hsa, independent: the segment-based fits (:class:`~dbsynth.model.hsa.HSAFit`,
        :class:`~dbsynth.model.independent.IndependentFit`) and their strategy; tables: their pluggable
        single-table synthesizers.
    transforms, univariate, copula: per-column reversible transforms, marginals, the Gaussian copula.
    columns, typed, generators: per-column generators of the columns no copula models (keys, PII, text, other
        types).
    links, draws: what the fit learns of links between tables; stratified draws the strategies share.
    store: model files (zip of JSON + npz): :func:`~dbsynth.model.store.save` and
        :func:`~dbsynth.model.store.load`.
"""
