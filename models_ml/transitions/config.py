"""The three transition models' names, the outcomes the outlook predicts, and the training configuration.

One place for what every other step of training, logging and the gate refers to: the registered
model names (``MODEL_NAMES``), the outlook's four outcomes and their label columns
(``OUTCOMES``), and ``TrainConfig`` - the seed, the windows' lengths, the sampling rates and the
LightGBM parameters - so one configuration object reproduces a night's fits bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

NEXT_STATE = "llif_next_state"
NEED = "llif_next_need_level"
OUTLOOK = "llif_person_outlook"
MODEL_NAMES: tuple[str, ...] = (NEXT_STATE, NEED, OUTLOOK)
GATE_METRIC = "heldout_log_loss"

OUTCOMES: dict[str, str] = {
    "care_home_move": "has_care_home_admission_next_12_months",
    "hospital_admission": "has_hospital_admission_next_12_months",
    "need_rise": "has_need_rise_next_12_months",
    "tenancy_end": "has_tenancy_end_next_12_months",
}


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 20261031
    train_start: str = "2016-01-01"  # home care live from 2015, wellbeing recorded from 2016
    validation_months: int = 12
    heldout_months: int = 12
    stay_rate: float = 0.10  # share of no-change rows kept (weight 1 / stay_rate)
    negative_rate: float = 0.10  # outlook rows with no outcome kept
    num_boost_round: int = 600
    early_stopping_rounds: int = 40
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.9
    lambda_l2: float = 5.0
    max_bin: int = 63
    num_threads: int = 2
    # production refit: boosting rounds = the evaluation's best iteration times this (1.0: not
    # scaled for the extra months; decision 28)
    refit_round_scale: float = 1.0

    def lgb_params(self) -> dict:
        return {
            "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf, "feature_fraction": self.feature_fraction,
            "feature_fraction_seed": self.seed, "lambda_l2": self.lambda_l2, "max_bin": self.max_bin,
            "num_threads": self.num_threads, "deterministic": True, "force_col_wise": True,
            "seed": self.seed, "verbose": -1, "max_cat_to_onehot": 8, "cat_smooth": 10.0,
        }
