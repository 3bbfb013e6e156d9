"""The HMA engine: reversible transforms, univariate marginals, Gaussian copulas and the multi-table HMA.

Modules:
    transforms: per-column reversible transforms into a numeric latent space.
    univariate: marginal families (empirical, norm, truncnorm, uniform, beta, gamma) and 'auto'.
    copula: the Gaussian copula of one table.
    hma: :class:`HMASynthesizer` and the legacy :class:`HMA1`.
    store: model files (zip of JSON + npz) and :func:`load_synthesizer`.
"""
