"""Visit-duration fits from timestamps: lognormal and gamma, per appointment type and per
(type, provider), with goodness of fit; the better by AIC is chosen.

The visit duration is the provider's face time, ``provider_end_at - provider_start_at`` — the
quantity ``appointment_types[].duration`` describes in a scenario. Both families are fitted by
maximum likelihood (location fixed at 0, since a visit cannot take negative time). The
Kolmogorov–Smirnov statistic is reported as a distance between the data and the fitted
distribution; its p-value is optimistic because the parameters were estimated from the same
data (Lilliefors), so it is a screen for gross misfit, not a test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from ..domain.distributions import Gamma, Lognormal
from .names import MIN_VISITS

MAX_MINUTES = 480  # longer "visits" are clock errors (a timestamp left open), not visits
#: A visit further from its group's median than this many robust standard deviations of log
#: minutes (1.4826 x the median absolute deviation) — and more than 10 times or less than a tenth of
#: the median — is a clock error, left out of the fit: see :func:`typical_visits`.
OUTLIER_SDS = 5.0
OUTLIER_MIN_RATIO = 10.0


@dataclass(frozen=True)
class Fit:
    family: str
    mean: float
    sd: float
    params: dict[str, float]
    loglik: float
    aic: float
    ks: float
    ks_p: float

    def spec(self):
        """The fitted distribution as a scenario distribution (by mean and sd, as practices write it)."""
        cls = Lognormal if self.family == "lognormal" else Gamma
        return cls(mean=round(self.mean, 1), sd=round(max(self.sd, 0.1), 1))

    def as_dict(self) -> dict:
        return {
            "family": self.family,
            "mean": round(self.mean, 2),
            "sd": round(self.sd, 2),
            **{k: round(v, 4) for k, v in self.params.items()},
            "loglik": round(self.loglik, 1),
            "aic": round(self.aic, 1),
            "ks": round(self.ks, 4),
            "ks_p": round(self.ks_p, 4),
        }


def fit_lognormal(x: np.ndarray) -> Fit:
    from scipy import stats  # lazy: scipy.stats costs ~1 s to import, and only fitting needs it

    logs = np.log(x)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=0))
    sigma = max(sigma, 1e-6)
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    ll = float(dist.logpdf(x).sum())
    ks = stats.kstest(x, dist.cdf)
    mean = math.exp(mu + sigma**2 / 2)
    sd = math.sqrt(math.expm1(sigma**2)) * mean
    return Fit(
        "lognormal",
        mean,
        sd,
        {"mu": mu, "sigma": sigma},
        ll,
        4 - 2 * ll,
        float(ks.statistic),
        float(ks.pvalue),
    )


def fit_gamma(x: np.ndarray) -> Fit:
    from scipy import stats  # lazy: scipy.stats costs ~1 s to import, and only fitting needs it

    shape, _, scale = stats.gamma.fit(x, floc=0)
    dist = stats.gamma(a=shape, scale=scale)
    ll = float(dist.logpdf(x).sum())
    ks = stats.kstest(x, dist.cdf)
    mean, sd = shape * scale, math.sqrt(shape) * scale
    return Fit(
        "gamma",
        mean,
        sd,
        {"shape": float(shape), "scale": float(scale)},
        ll,
        4 - 2 * ll,
        float(ks.statistic),
        float(ks.pvalue),
    )


@dataclass(frozen=True)
class DurationFit:
    appointment_type: str
    provider: str | None  # None: all providers of the type
    n: int
    observed_mean: float
    observed_sd: float
    observed_median: float
    fits: tuple[Fit, ...]
    excluded: int = 0  # visits left out as clock errors (:func:`typical_visits`)

    @property
    def best(self) -> Fit:
        return min(self.fits, key=lambda f: f.aic)

    def as_dict(self) -> dict:
        return {
            "appointment_type": self.appointment_type,
            "provider": self.provider,
            "n": self.n,
            "excluded": self.excluded,
            "observed": {
                "mean": round(self.observed_mean, 2),
                "sd": round(self.observed_sd, 2),
                "median": round(self.observed_median, 2),
            },
            "best": self.best.family,
            "fits": [f.as_dict() for f in self.fits],
        }


def visit_minutes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Face-time minutes of attended visits with both provider timestamps."""
    return con.execute(
        f"""SELECT appointment_type, provider,
                   date_diff('second', provider_start_at, provider_end_at) / 60.0 AS minutes
            FROM appointments
            WHERE status = 'attended' AND appointment_type IS NOT NULL
              AND provider_start_at IS NOT NULL AND provider_end_at IS NOT NULL
              AND provider_end_at > provider_start_at
              AND date_diff('second', provider_start_at, provider_end_at) <= {MAX_MINUTES * 60}"""
    ).df()


def typical_visits(x: np.ndarray) -> np.ndarray:
    """The visits of a group that are not clock errors (a mask of ``x``).

    Maximum likelihood has no defence against a few impossible values: a visit closed a second
    after it was opened (a click, not a visit) costs a lognormal a log-density far in its tail, and
    a visit left open for hours a gamma its sd. Three of each among 400 follow-ups took the fitted sd
    from 6 to 13-15 minutes. A visit is left out when its log minutes are more than
    ``OUTLIER_SDS`` robust sds from the group's median (by the median absolute deviation, which the
    errors themselves cannot inflate) and it is more than ``OUTLIER_MIN_RATIO`` times, or less than
    a ``1 / OUTLIER_MIN_RATIO`` of, the median: for a real lognormal 5 sds leave out about one visit
    in two million, and the ratio keeps a group whose times are mostly one value (an EHR that
    rounds to 15 minutes) from losing its 30- and 45-minute visits. The ratio is 10, not 3: a gamma's
    log has a long left tail, and at 3 (or 5) the synthetic history's gamma-distributed wellness
    visits (25 ± 8 min) lost real 5- and 7-minute visits as "clock errors"; a tenth of the median
    (1.6 minutes of a follow-up) or ten times it (2.7 hours) is not a visit."""
    logs = np.log(x)
    median = np.median(logs)
    robust_sd = 1.4826 * np.median(np.abs(logs - median))
    return np.abs(logs - median) <= max(OUTLIER_SDS * robust_sd, np.log(OUTLIER_MIN_RATIO))


def _fit_group(x: np.ndarray, type_id: str, provider: str | None, excluded: int) -> DurationFit:
    return DurationFit(
        type_id,
        provider,
        len(x),
        float(x.mean()),
        float(x.std(ddof=1)),
        float(np.median(x)),
        (fit_lognormal(x), fit_gamma(x)),
        excluded,
    )


def fit_durations(con: duckdb.DuckDBPyConnection, min_n: int = MIN_VISITS) -> list[DurationFit]:
    """Fits per type (all providers) and per (type, provider), for groups with ``min_n`` visits
    after clock errors are left out (:func:`typical_visits`)."""
    df = visit_minutes(con)
    out: list[DurationFit] = []

    def fit(x: np.ndarray, type_id: str, provider: str | None) -> None:
        keep = typical_visits(x)
        if keep.sum() >= min_n:
            out.append(_fit_group(x[keep], type_id, provider, int((~keep).sum())))

    for type_id, g in df.groupby("appointment_type", sort=True):
        fit(g["minutes"].to_numpy(float), str(type_id), None)
        for prov, gp in g.dropna(subset=["provider"]).groupby("provider", sort=True):
            fit(gp["minutes"].to_numpy(float), str(type_id), str(prov))
    return out
