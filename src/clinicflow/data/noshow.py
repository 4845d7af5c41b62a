"""No-show prediction: regularized logistic regression (with splines) or gradient boosting on
booking, patient and history features — whichever predicts the calibration slice better —
evaluated on a time-based holdout and calibrated on the slice before it.

Why this shape:

* **Time-based split.** A random split lets the model learn from appointments *after* the ones it
  is tested on (and from the same patients' later outcomes); the number it reports is then too
  good to be true. Here the last 20% of appointment dates are the test set, the 20% of dates
  before them the calibration slice, and the model is trained on the earlier 60%.
* **No leakage in features.** History features come from :func:`clinicflow.data.features.visits_sql`,
  which only looks at the patient's earlier days.
* **Calibrated probabilities.** Scores of a regularized or boosted model are shrunk or skewed, not
  probabilities a simulator can draw from; an isotonic map fitted on the calibration slice fixes that (checked on
  the test set by the Brier score and a calibration table).

The population is the appointments kept on the books (attended, no-show, late cancel); the target
is a no-show.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, SplineTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ..errors import InputError
from .features import visits_sql
from .importers import FLAG_FIELDS
from .store import store_path

NUMERIC = (
    "lead_days",
    "age",
    "weekday_num",
    "hour",
    "reminder_num",
    *FLAG_FIELDS,
    "prior_appointments",
    "prior_no_shows",
    "prior_late_cancels",
    "prior_no_show_rate",
    "prior_no_show_logit",
    "days_since_last",
)
CATEGORICAL = ("appointment_type", "provider", "sex")
#: Log-odds of the patient's no-show rate shrunk towards 1/6 (0.5 no-shows in 3 visits): how much
#: evidence a history carries grows with its length, which a raw rate cannot say (1 of 1 and 10 of
#: 10 are both 100%) and a linear model of counts cannot combine on its own.
PRIOR_LOGIT_SQL = "ln((prior_no_shows + 0.5) / (prior_appointments - prior_no_shows + 2.5))"
MIN_DATES = 10
MIN_ROWS = 200


def feature_frame(con: duckdb.DuckDBPyConnection, source: str = "appointments") -> pd.DataFrame:
    """One row per kept appointment with its features, target and date (history from earlier days only)."""
    cols = ", ".join(
        c for c in NUMERIC if c not in ("reminder_num", "prior_no_show_rate", "prior_no_show_logit")
    )
    df = con.execute(
        f"""SELECT appointment_ref, appt_date, is_no_show AS y, {cols},
                   CASE WHEN reminder THEN 1.0 WHEN NOT reminder THEN 0.0 END AS reminder_num,
                   prior_no_shows / nullif(prior_appointments, 0) AS prior_no_show_rate,
                   {PRIOR_LOGIT_SQL} AS prior_no_show_logit,
                   {", ".join(CATEGORICAL)}
            FROM ({visits_sql(source)}) v
            WHERE status IN ('attended', 'no_show', 'late_cancel')
            ORDER BY appt_date, appointment_ref"""
    ).df()
    return df


SPLINE = ("age", "lead_days", "days_since_last")  # smooth, non-linear effects (log scale for days)
CATEGORY_LIKE = ("weekday_num", "hour")  # small integers whose effect need not be monotone


def _design(used: tuple[str, ...]) -> ColumnTransformer:
    """Features for the logistic model: splines of age and log lead time / log days since the last
    visit, one-hot weekday, hour, type, provider and sex, standardized counts and flags, each with
    a missing-value indicator (a schedule has no lead time; a first visit has no last visit)."""
    spline = [c for c in SPLINE if c in used]
    cats = [c for c in (*CATEGORY_LIKE, *CATEGORICAL) if c in used]
    nums = [c for c in used if c not in spline and c not in cats]
    parts = []
    if spline:
        parts.append(
            (
                "spline",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True),
                    SplineTransformer(n_knots=5, degree=3),
                ),
                spline,
            )
        )
        parts.append(("spline_missing", MissingIndicator(features="all"), spline))
    if nums:
        parts.append(
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
                nums,
            )
        )
    if cats:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20), cats))
    return ColumnTransformer(parts)


@dataclass
class NoShowModel:
    """A fitted model: a feature design, the classifier, and the isotonic calibration map."""

    name: str
    estimator: object
    isotonic: IsotonicRegression
    used: tuple[str, ...]  # feature columns with any data
    levels: np.ndarray  # the isotonic map's distinct values on the calibration slice …
    shrunk: np.ndarray  # … and what each becomes after shrinking its block (``_shrink_blocks``)

    def _matrix(self, df: pd.DataFrame) -> pd.DataFrame:
        return _matrix(df, self.used)

    def raw_scores(self, df: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(1):
            return self.estimator.predict_proba(self._matrix(df))[:, 1]

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Calibrated no-show probabilities."""
        return calibrated(self.isotonic, self.levels, self.shrunk, self.raw_scores(df))


def calibrated(
    iso: IsotonicRegression, levels: np.ndarray, shrunk: np.ndarray, raw: np.ndarray
) -> np.ndarray:
    return np.interp(iso.predict(raw), levels, shrunk)


def _shrink_blocks(iso: IsotonicRegression, raw_cal: np.ndarray, y_cal: np.ndarray, strength: float = 2.0):
    """Each isotonic block's rate shrunk towards the calibration slice's rate, as the mean of a Beta
    posterior with ``strength`` pseudo-appointments at that rate, then made monotone again.

    Why: isotonic regression sets a block to its raw rate, so when the few highest scores of the
    calibration slice were all no-shows the map says 1.0 — and a patient scored 1.0 never comes in
    the simulator, the planner's SAA days and the booking's expected attendance. A block of 5 of 5
    becomes about 0.75 at the family practice's rate (0.14); a block of 300 moves by well under a point.
    """
    fitted = iso.predict(raw_cal)
    levels, inv = np.unique(fitted, return_inverse=True)
    n = np.bincount(inv).astype(float)
    k = np.bincount(inv, weights=y_cal.astype(float))
    prior = float(y_cal.mean())
    post = (k + strength * prior) / (n + strength)
    shrunk = IsotonicRegression().fit(levels, post, sample_weight=n + strength).predict(levels)
    return levels, shrunk


def _matrix(df: pd.DataFrame, used: tuple[str, ...]) -> pd.DataFrame:
    X = pd.DataFrame(index=df.index)
    for c in used:
        if c in CATEGORICAL or c in CATEGORY_LIKE:
            X[c] = df[c].astype("object").where(df[c].notna(), "missing").astype(str)
        else:
            v = pd.to_numeric(df[c], errors="coerce").astype(float)
            X[c] = np.log1p(v.clip(lower=0)) if c in ("lead_days", "days_since_last") else v
    return X


def _boosting(used: tuple[str, ...], seed: int):
    """Shallow, strongly regularized boosted trees on the raw features (categories ordinal-coded
    and declared categorical; trees need neither splines nor one-hot columns)."""
    cats = [c for c in (*CATEGORY_LIKE, *CATEGORICAL) if c in used]
    nums = [c for c in used if c not in cats]
    design = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
                ),
                cats,
            ),
            ("num", "passthrough", nums),
        ]
    )
    trees = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=100,
        max_depth=3,
        min_samples_leaf=200,
        l2_regularization=5.0,
        categorical_features=list(range(len(cats))),
        early_stopping=False,
        random_state=seed,
    )
    return make_pipeline(design, trees)


def _candidates(used: tuple[str, ...], seed: int) -> dict[str, object]:
    return {
        "logistic regression (L2, splines)": make_pipeline(
            _design(used), LogisticRegression(C=0.5, max_iter=2000)
        ),
        "gradient boosting": _boosting(used, seed),
    }


def time_split(dates: pd.Series, holdout: float = 0.2, validation: float = 0.2):
    """Masks (train, calibration, test) by distinct appointment date: test = last ``holdout`` of dates."""
    days = np.sort(pd.unique(dates))
    n = len(days)
    test_from = days[min(n - 1, math.floor(n * (1 - holdout)))]
    cal_from = days[min(n - 1, math.floor(n * (1 - holdout - validation)))]
    d = dates.to_numpy()
    return d < cal_from, (d >= cal_from) & (d < test_from), d >= test_from


def _calibration_table(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Observed vs predicted rate in deciles of the predicted probability.

    Rows with the same prediction (isotonic calibration gives many) stay in one bin: split at the
    decile position, tied rows would fall on either side by their order in the table — sorted by a
    keyed pseudonym, so another key moved a patient between the top two deciles and the README's
    observed rate with it."""
    order = np.argsort(p, kind="stable")
    ps = p[order]
    n = len(ps)
    cuts = sorted(
        {
            int(np.searchsorted(ps, ps[i - 1], side="right"))
            for i in (round(k * n / bins) for k in range(1, bins))
            if 0 < i < n
        }
    )
    out = []
    for k, idx in enumerate(np.split(order, [c for c in cuts if c < n])):
        if len(idx) == 0:
            continue
        out.append(
            {
                "bin": k + 1,
                "n": len(idx),
                "predicted": round(float(p[idx].mean()), 4),
                "observed": round(float(y[idx].mean()), 4),
                "p_min": round(float(p[idx].min()), 4),
                "p_max": round(float(p[idx].max()), 4),
            }
        )
    return out


def fit_noshow(con: duckdb.DuckDBPyConnection, seed: int = 0) -> tuple[NoShowModel, dict]:
    """Fit, calibrate and evaluate. Returns the model and a JSON-ready evaluation."""
    t0 = time.perf_counter()
    df = feature_frame(con)
    if len(df) < MIN_ROWS or df["appt_date"].nunique() < MIN_DATES:
        raise InputError(
            store_path(con),
            None,
            f"too little history for a no-show model (need {MIN_ROWS}+ kept appointments on "
            f"{MIN_DATES}+ dates, have {len(df)} on {df['appt_date'].nunique()})",
        )
    train, cal, test = time_split(pd.to_datetime(df["appt_date"]))
    y = df["y"].to_numpy().astype(int)
    for name, mask in (("training", train), ("calibration", cal), ("test", test)):
        if len(np.unique(y[mask])) < 2:
            raise InputError(
                store_path(con), None, f"the {name} period has only one outcome; a no-show model needs both"
            )
    used = tuple(c for c in (*NUMERIC, *CATEGORICAL) if df[c].notna().any())
    X = _matrix(df, used)
    # One BLAS/OpenMP thread: on a shared 2-core machine two spinning threads were 5-10x slower
    # than one (measured: 1.6 s vs 23 s for the same boosting fit under load).
    candidates = {}
    with threadpool_limits(1):
        for name, est in _candidates(used, seed).items():
            est.fit(X[train], y[train])
            candidates[name] = (est, est.predict_proba(X[cal])[:, 1], est.predict_proba(X[test])[:, 1])
    # choose on the calibration slice (never the test set), then calibrate there
    name = min(candidates, key=lambda k: log_loss(y[cal], np.clip(candidates[k][1], 1e-6, 1 - 1e-6)))
    est, raw_cal, raw_test = candidates[name]
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_cal, y[cal])
    levels, shrunk = _shrink_blocks(iso, raw_cal, y[cal])
    model = NoShowModel(name, est, iso, used, levels, shrunk)
    p_test = calibrated(iso, levels, shrunk, raw_test)
    y_test = y[test]
    base = float(y[train].mean())
    dates = pd.to_datetime(df["appt_date"])
    evaluation = {
        "model": f"{name} + isotonic calibration",
        "candidates": {
            k: {
                "calibration_log_loss": round(float(log_loss(y[cal], np.clip(v[1], 1e-6, 1 - 1e-6))), 4),
                "test_roc_auc": round(float(roc_auc_score(y[test], v[2])), 4),
            }
            for k, v in candidates.items()
        },
        "features": list(used),
        "rows": {"train": int(train.sum()), "calibration": int(cal.sum()), "test": int(test.sum())},
        "periods": {
            "train": [str(dates[train].min().date()), str(dates[train].max().date())],
            "calibration": [str(dates[cal].min().date()), str(dates[cal].max().date())],
            "test": [str(dates[test].min().date()), str(dates[test].max().date())],
        },
        "test": {
            "no_show_rate": round(float(y_test.mean()), 4),
            "roc_auc": round(float(roc_auc_score(y_test, p_test)), 4),
            "roc_auc_uncalibrated": round(float(roc_auc_score(y_test, raw_test)), 4),
            "brier": round(float(brier_score_loss(y_test, p_test)), 4),
            "brier_uncalibrated": round(float(brier_score_loss(y_test, raw_test)), 4),
            "brier_base_rate": round(float(brier_score_loss(y_test, np.full(len(y_test), base))), 4),
            "mean_predicted": round(float(p_test.mean()), 4),
        },
        "calibration_table": _calibration_table(p_test, y_test),
        "fit_seconds": round(time.perf_counter() - t0, 2),
    }
    return model, evaluation
