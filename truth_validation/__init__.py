"""The pipeline measured against the synthetic world's truth: linkage, timeline and segments.

Why a package of its own: only here may llif read the truth store (``synthetic_sources``), which
a provider's installation does not have. The pipeline's layers never import this package (an
import-linter contract in ``make test``); Dagster's ``validation`` assets call it and skip
themselves where ``LLIF_HOME`` holds no truth.
"""
