"""Probability distributions for durations and punctuality.

Each distribution is a small frozen object with ``sample(rng, size)``, ``mean``, ``sd`` and
``quantile(p)``. They never hold a random state: the caller passes a numpy ``Generator`` so that
every draw comes from a stream spawned from one SeedSequence (common random numbers across
scenarios). Practices describe durations by mean and standard deviation far more often than by
the distribution's own parameters, so both forms are accepted and kept as written (a scenario
dumped back to YAML reads the way it was written).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from .base import numeric

#: Every distribution is of minutes (a visit, a turnover, a case, how late a patient comes): a mean
#: or a spread of more than a day is a typo (``1e308``), and would overflow the models' arithmetic.
MAX_MINUTES = 1440.0


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # as every domain model

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, data):
        """``mean: true`` is a typo, not 1 (a field validator cannot run on the ``dist`` tag)."""
        if isinstance(data, dict):
            fields = {f.alias or name: f for name, f in cls.model_fields.items()}
            for key, value in data.items():
                if isinstance(value, bool) and key in fields and numeric(fields[key].annotation):
                    raise ValueError(f"{key}: expected a number, got {str(value).lower()}")
        return data

    @model_validator(mode="after")
    def _within_a_day(self):
        values = getattr(self, "values", None)  # an empirical distribution: its values bound the rest
        if values is not None:
            if max(abs(v) for v in values) > MAX_MINUTES:
                raise ValueError(
                    f"expected values in minutes, at most {MAX_MINUTES:g} (a day), got {max(values, key=abs):.6g}"
                )
            return self
        mean, sd = getattr(self, "mean_", None), getattr(self, "sd_", None)  # as written, when given so
        try:
            mean = abs(self.mean) if mean is None else abs(mean)
            sd = self.sd if sd is None else sd
        except (OverflowError, ValueError):  # exp() of a lognormal's mu and sigma out of range
            mean = sd = math.inf
        if not (mean <= MAX_MINUTES and sd <= MAX_MINUTES):
            raise ValueError(
                f"expected minutes: a mean and sd of at most {MAX_MINUTES:g} (a day), "
                f"got mean {mean:.6g} and sd {sd:.6g}"
            )
        return self

    #: True when every sample is >= 0 (required for durations).
    @property
    def nonnegative(self) -> bool:
        return True

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def sd(self) -> float:
        raise NotImplementedError

    def quantile(self, p: float | np.ndarray) -> float | np.ndarray:
        raise NotImplementedError

    @property
    def cv(self) -> float:
        """Coefficient of variation (sd / mean); 0 for a zero mean."""
        return self.sd / self.mean if self.mean else 0.0


def _mean_sd_or_params(values: dict, params: tuple[str, ...], kind: str) -> None:
    by_moments = values.get("mean") is not None or values.get("sd") is not None
    by_params = any(values.get(p) is not None for p in params)
    if by_moments and by_params:
        raise ValueError(f"give a {kind} either by mean and sd or by {' and '.join(params)}, not both")
    if by_moments and (values.get("mean") is None or values.get("sd") is None):
        raise ValueError(f"a {kind} given by moments needs both mean and sd")
    if by_params and any(values.get(p) is None for p in params):
        raise ValueError(f"a {kind} given by parameters needs {' and '.join(params)}")
    if not by_moments and not by_params:
        raise ValueError(f"a {kind} needs mean and sd, or {' and '.join(params)}")


class Deterministic(_Dist):
    """Always the same value: the textbook 'no variability' case (M/D/1, slot = duration)."""

    dist: Literal["deterministic"] = "deterministic"
    value: float

    @property
    def nonnegative(self) -> bool:
        return self.value >= 0

    def sample(self, rng, size=None):
        return np.full(size if size is not None else (), self.value, dtype=float)

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def sd(self) -> float:
        return 0.0

    def quantile(self, p):
        return np.full_like(np.asarray(p, dtype=float), self.value) if np.ndim(p) else float(self.value)


class Exponential(_Dist):
    """Memoryless durations: the M/M/c reference case."""

    dist: Literal["exponential"] = "exponential"
    mean_: float = Field(alias="mean", gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    def sample(self, rng, size=None):
        return rng.exponential(self.mean_, size)

    @property
    def mean(self) -> float:
        return float(self.mean_)

    @property
    def sd(self) -> float:
        return float(self.mean_)

    def quantile(self, p):
        return -self.mean_ * np.log1p(-np.asarray(p, dtype=float))


class Lognormal(_Dist):
    """Right-skewed visit and case durations; the usual fit for clinic and OR times
    (Strum et al., Anesthesiology 2000; Cayirli & Veral, POM 2003)."""

    dist: Literal["lognormal"] = "lognormal"
    mean_: float | None = Field(default=None, alias="mean", gt=0)
    sd_: float | None = Field(default=None, alias="sd", gt=0)
    mu: float | None = None
    sigma: float | None = Field(default=None, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    @model_validator(mode="before")
    @classmethod
    def _one_form(cls, values):
        if isinstance(values, dict):
            _mean_sd_or_params(values, ("mu", "sigma"), "lognormal")
        return values

    @property
    def params(self) -> tuple[float, float]:
        """(mu, sigma) of the underlying normal."""
        if self.mu is not None:
            return float(self.mu), float(self.sigma)
        m, s = float(self.mean_), float(self.sd_)
        sigma2 = math.log1p((s / m) ** 2)
        return math.log(m) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng, size=None):
        mu, sigma = self.params
        return rng.lognormal(mu, sigma, size)

    @property
    def mean(self) -> float:
        mu, sigma = self.params
        return math.exp(mu + sigma**2 / 2)

    @property
    def sd(self) -> float:
        mu, sigma = self.params
        return math.sqrt(math.expm1(sigma**2)) * math.exp(mu + sigma**2 / 2)

    def quantile(self, p):
        from scipy import special  # lazy: only quantiles need scipy (special, not stats: ~1 s less to import)

        mu, sigma = self.params
        return np.exp(mu + sigma * special.ndtri(p))


class Gamma(_Dist):
    """Gamma durations (shape k, scale theta), or by mean and sd."""

    dist: Literal["gamma"] = "gamma"
    mean_: float | None = Field(default=None, alias="mean", gt=0)
    sd_: float | None = Field(default=None, alias="sd", gt=0)
    shape: float | None = Field(default=None, gt=0)
    scale: float | None = Field(default=None, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    @model_validator(mode="before")
    @classmethod
    def _one_form(cls, values):
        if isinstance(values, dict):
            _mean_sd_or_params(values, ("shape", "scale"), "gamma")
        return values

    @property
    def params(self) -> tuple[float, float]:
        """(shape, scale)."""
        if self.shape is not None:
            return float(self.shape), float(self.scale)
        m, s = float(self.mean_), float(self.sd_)
        return (m / s) ** 2, s**2 / m

    def sample(self, rng, size=None):
        k, theta = self.params
        return rng.gamma(k, theta, size)

    @property
    def mean(self) -> float:
        k, theta = self.params
        return k * theta

    @property
    def sd(self) -> float:
        k, theta = self.params
        return math.sqrt(k) * theta

    def quantile(self, p):
        from scipy import special  # lazy: only quantiles need scipy (special, not stats: ~1 s less to import)

        k, theta = self.params
        return theta * special.gammaincinv(k, p)


class Normal(_Dist):
    """Normal draws: for punctuality (minutes late, negative = early), never for durations."""

    dist: Literal["normal"] = "normal"
    mean_: float = Field(alias="mean")
    sd_: float = Field(alias="sd", ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    @property
    def nonnegative(self) -> bool:
        return False

    def sample(self, rng, size=None):
        return rng.normal(self.mean_, self.sd_, size)

    @property
    def mean(self) -> float:
        return float(self.mean_)

    @property
    def sd(self) -> float:
        return float(self.sd_)

    def quantile(self, p):
        from scipy import special  # lazy: only quantiles need scipy (special, not stats: ~1 s less to import)

        return self.mean_ + self.sd_ * special.ndtri(p) if self.sd_ > 0 else self.mean_ + 0 * np.asarray(p)


class Empirical(_Dist):
    """Resample observed values (with optional weights): what an import of history produces
    when no parametric family fits."""

    dist: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights_match(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"expected as many weights as values ({len(self.values)}), got {len(self.weights)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("expected non-negative weights with a positive sum")
        return self

    @property
    def _probs(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    @property
    def nonnegative(self) -> bool:
        return min(self.values) >= 0

    def sample(self, rng, size=None):
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._probs)

    @property
    def mean(self) -> float:
        return float(np.average(self.values, weights=self._probs))

    @property
    def sd(self) -> float:
        v = np.asarray(self.values, dtype=float)
        return float(math.sqrt(np.average((v - self.mean) ** 2, weights=self._probs)))

    def quantile(self, p):

        v = np.asarray(self.values, dtype=float)
        order = np.argsort(v)
        probs = self._probs if self._probs is not None else np.full(len(v), 1 / len(v))
        cdf = np.cumsum(probs[order])
        idx = np.searchsorted(cdf, np.asarray(p, dtype=float) - 1e-12)
        out = v[order][np.minimum(idx, len(v) - 1)]
        return out if np.ndim(p) else float(out)


def _number_is_deterministic(value: object) -> object:
    """A bare number in a scenario file means a fixed duration: `turnover_min: 3`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"dist": "deterministic", "value": value}
    return value


Distribution = Annotated[
    Union[Deterministic, Exponential, Lognormal, Gamma, Normal, Empirical],  # noqa: UP007
    Field(discriminator="dist"),
]
"""Any distribution, chosen by its ``dist`` key."""

DistributionSpec = Annotated[Distribution, BeforeValidator(_number_is_deterministic)]
"""A distribution, or a bare number meaning a fixed value."""


def deterministic(value: float) -> Deterministic:
    return Deterministic(value=value)
