"""Transition models: next month's state, next month's need level, and 12-month outlooks.

A package by concern (issue 13 item 5), each module named for what it holds:

- ``config``: the registered model names, the outlook's outcomes, ``TrainConfig``;
- ``data``: the temporal windows and the sampled, weighted rows (``Windows``, ``load_*_rows``);
- ``fitting``: the evaluation fit and the production refit of each model (``FittedModel``);
- ``calibration``: temperature and Platt scaling fitted on the validation months;
- ``baseline``: the Markov baseline the models are scored against;
- ``metrics``: log loss, Brier score, calibration error;
- ``explanations``: per-feature contributions (drivers) and their plots;
- ``mlflow_runs``: logging both fits and registering the refit as ``challenger``;
- ``training``: the nightly ``train_transition_models`` and MLflow-free ``fit_all``;
- ``gate``: ``gate_and_promote``, the champion gate.

Callers import from the module that holds a name; this file re-exports nothing, so each fact has
one address. The model class is ``models_ml/lgbm_model.py`` (logged from code, decision 41).
"""
