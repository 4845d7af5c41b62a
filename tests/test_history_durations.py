"""Duration fits and calibration of a scenario from history."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from clinicflow import load_scenario
from clinicflow.data.calibrate import calibrate_scenario, checkin_minutes, score_schedule
from clinicflow.data.durations import fit_durations, fit_gamma, fit_lognormal
from clinicflow.data.noshow import fit_noshow
from clinicflow.data.pooling import pool_rates
from clinicflow.data.store import import_history
from clinicflow.scenario_file import dump_scenario
from clinicflow.scenario_file import load_scenario as load
from conftest import FAMILY
from history_helpers import _key_in_tmp, generic_file  # noqa: F401


def test_lognormal_fit_recovers_parameters_within_sampling_error():
    rng = np.random.default_rng(1)
    mu, sigma, n = math.log(20), 0.4, 4000
    f = fit_lognormal(rng.lognormal(mu, sigma, n))
    # the MLE of mu has sd sigma/sqrt(n); of sigma about sigma/sqrt(2n): allow 4 sd
    assert abs(f.params["mu"] - mu) < 4 * sigma / math.sqrt(n)
    assert abs(f.params["sigma"] - sigma) < 4 * sigma / math.sqrt(2 * n)
    assert f.ks < 1.36 / math.sqrt(n)  # the 5% KS critical value


def test_best_family_by_aic():
    rng = np.random.default_rng(2)
    g = rng.gamma(2.0, 8.0, 5000)  # gamma with shape 2 is far from lognormal
    ln = rng.lognormal(3.0, 0.6, 5000)
    assert min((fit_lognormal(g), fit_gamma(g)), key=lambda f: f.aic).family == "gamma"
    assert min((fit_lognormal(ln), fit_gamma(ln)), key=lambda f: f.aic).family == "lognormal"
    fg = fit_gamma(g)
    assert fg.mean == pytest.approx(16.0, rel=0.03) and fg.params["shape"] == pytest.approx(2.0, rel=0.06)


@pytest.fixture(scope="module")
def family_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cal")
    family = load_scenario(FAMILY)
    f, frame = generic_file(tmp / "fam.csv", rows=12000, seed=41, weeks=20, scenario=family)
    db = tmp / "h.duckdb"
    key = tmp / "key"
    import_history(f, db, key_file=key)
    con = duckdb.connect(str(db), read_only=True)
    yield family, con, frame, tmp
    con.close()


def test_duration_fits_match_the_scenario_that_generated_them(family_store):
    family, con, _, _ = family_store
    fits = {(f.appointment_type, f.provider): f for f in fit_durations(con)}
    for t in family.appointment_types:
        if (t.id, None) not in fits:
            continue
        # the pooled fit mixes providers' overrides: compare per provider with the provider's own
        for p in family.providers:
            f = fits.get((t.id, p.id))
            if f is None:
                continue
            truth = family.visit_duration(p.id, t.id)
            se = truth.sd / math.sqrt(f.n)
            assert abs(f.best.mean - truth.mean) < 5 * se + 0.05, (t.id, p.id)
            # the sample sd's standard error, sd * sqrt((kurtosis - 1) / 4n), kurtosis from the truth's
            # quantiles: a cell of ~100 procedures has a wide one (1 min of 9 for a lognormal)
            x = truth.quantile((np.arange(20000) + 0.5) / 20000)
            kurt = float(np.mean((x - x.mean()) ** 4) / x.var() ** 2)
            se_sd = truth.sd * math.sqrt((kurt - 1) / (4 * f.n))
            assert abs(f.best.sd - truth.sd) < max(4 * se_sd, 0.2 * truth.sd), (t.id, p.id)
    # Medicare wellness visits are gamma in the scenario, and gamma wins on the pooled data
    assert fits[("medicare_awv", None)].best.family == "gamma"


def test_calibrated_scenario_validates_and_carries_the_fitted_values(family_store, tmp_path):
    family, con, frame, _ = family_store
    cal = calibrate_scenario(family, con)
    text = dump_scenario(cal.scenario)
    out = tmp_path / "cal.yaml"
    out.write_text(text)
    again = load(out)  # what is written loads and validates
    kept = frame[frame["status"] != "cancelled"]
    # the frame's own counts, pooled across its types as calibrate pools the store's (pooling.py)
    counts = kept.groupby("appointment_type")["status"].agg(
        n="size", ns=lambda s: (s == "no_show").sum(), lc=lambda s: (s == "late_cancel").sum()
    )
    expected = {
        name: dict(zip(counts.index, pool_rates(counts[col], counts["n"]).rates, strict=True))
        for name, col in (("no_show", "ns"), ("late_cancel", "lc"))
    }
    pooled = pool_rates(counts["ns"], counts["n"])
    for t in again.appointment_types:
        sub = kept[kept["appointment_type"] == t.id]
        if len(sub) >= 30:
            assert t.no_show == pytest.approx(expected["no_show"][t.id], abs=5e-5)
            assert t.late_cancel == pytest.approx(expected["late_cancel"][t.id], abs=5e-5)
            # pooling moves the raw rate towards the practice's by weight / (n + weight) of their
            # gap (pooling.py): hundreds of visits a type (the demand's mix: 787 new patients, 5,000
            # follow-ups) keep it within a few percent of that gap, a few in a thousand here
            raw = (sub["status"] == "no_show").mean()
            shrink = pooled.weight / (len(sub) + pooled.weight)
            assert shrink < 0.1
            assert abs(t.no_show - raw) <= shrink * abs(raw - pooled.practice_rate) + 5e-5
    changed = {c["field"] for c in cal.changes}
    assert "appointment_types[new_patient].duration" in changed
    assert "providers[dr_lindqvist].visit_durations.follow_up" in changed
    lind = again.provider_by_id["dr_lindqvist"]
    assert set(lind.visit_durations) <= set(lind.appointment_types)


def test_schedule_scores_rank_patients_by_history(family_store):
    _family, con, _frame, _ = family_store
    model, _ = fit_noshow(con)
    appts = con.execute(
        """SELECT patient_ref, count(*) FILTER (WHERE status = 'no_show') AS ns, count(*) AS n
           FROM appointments GROUP BY 1 HAVING count(*) >= 4 ORDER BY ns DESC, patient_ref"""
    ).df()
    worst, best = appts.iloc[0]["patient_ref"], appts[appts["ns"] == 0].iloc[0]["patient_ref"]
    last = pd.to_datetime(con.execute("SELECT max(appt_date) FROM appointments").fetchall()[0][0]).date()
    day = last + pd.Timedelta(days=7)
    sched = pd.DataFrame(
        {
            "date": [day] * 4,
            "weekday": ["mon"] * 4,
            "provider": ["dr_okafor"] * 4,
            "start": ["09:00", "09:20", "09:40", "10:00"],
            "end": ["09:20", "09:40", "10:00", "10:20"],
            "start_min": [540, 560, 580, 600],
            "end_min": [560, 580, 600, 620],
            "appointment_type": ["follow_up"] * 4,
            "kind": ["booked", "booked", "template", "booked"],
            "patient_ref": [worst, best, None, "p_unknownpatient0000"],
            "room": [None] * 4,
            "no_show_prob": [np.nan] * 4,
        }
    )
    scored = score_schedule(sched, con, model)
    p = scored["no_show_prob"].to_numpy()
    assert p[0] > p[1] and 0 <= p[1] <= 1 and 0 <= p[3] <= 1
    assert np.isnan(p[2])  # a template slot keeps "use the type's probability"


def _arrival_moments(mean: float, sd: float, cutoff: float, floor: np.ndarray) -> tuple[float, float]:
    """Mean and sd of the simulator's arrival minus appointment time of the patients it lets in:
    ``max(X, floor_i)`` given ``X <= cutoff``, X ~ N(mean, sd) — nobody gets in before the doors open
    (``floor_i`` = opening minus the row's appointment time) and a patient later than the cutoff is
    turned away — averaged over the rows (a mixture: the sd includes the spread of the means)."""
    from scipy import stats

    z = stats.norm
    a, b = (floor - mean) / sd, (cutoff - mean) / sd
    kept = z.cdf(b)
    mid = z.cdf(b) - z.cdf(a)
    # E[X 1{floor < X <= cutoff}] and E[X^2 1{...}] of the normal, closed forms
    e1 = mean * mid + sd * (z.pdf(a) - z.pdf(b))
    e2 = (mean**2 + sd**2) * mid + sd * ((floor + mean) * z.pdf(a) - (cutoff + mean) * z.pdf(b))
    m1 = ((floor * z.cdf(a) + e1) / kept).mean()
    m2 = ((floor**2 * z.cdf(a) + e2) / kept).mean()
    return float(m1), math.sqrt(m2 - m1 * m1)


#: Minutes the desk's queue adds to a check-in (check-in start minus arrival) on the store's history,
#: at most: 0.13 on average there (the simulator's records of seed 41's days, 9% of patients queue at
#: all); the fit reads patients that much later than they arrive (docs/history.md, "Calibrate").
DESK_QUEUE_MAX = 0.3


def test_punctuality_is_fitted_from_check_in_times(family_store, tmp_path):
    """Check-in minus appointment time recovers the scenario's punctuality as the simulator lets
    patients in (the clinic times are simulated, synthetic_flow.py): a normal arrival, never before
    the doors open (however late: the replay turns nobody away, synthetic_flow.py), then
    the desk's queue: mean within 4 standard errors plus the queue, sd within 4 of its own."""
    family, con, _, _ = family_store
    x = checkin_minutes(con)
    n = len(x)
    assert n > 8000  # attended visits of 12,000 appointments
    truth = family.arrivals.punctuality
    starts = con.execute(
        """SELECT hour(start_at) * 60 + minute(start_at) FROM appointments
           WHERE status = 'attended' AND checkin_at IS NOT NULL"""
    ).fetchnumpy()
    appt = np.asarray(next(iter(starts.values())), dtype=float)
    floor = family.clinic.opens - appt
    # nobody is turned away in the history (a patient recorded as seen was seen): no upper cut
    mean, sd = _arrival_moments(truth.mean, truth.sd, truth.mean + 40 * truth.sd, floor)
    # the doors hardly move it: -7.99 / 11.99 where the scenario says -8 / 12
    assert mean == pytest.approx(-7.99, abs=0.02) and sd == pytest.approx(11.99, abs=0.02)
    se = sd / math.sqrt(n)
    assert -4 * se < x.mean() - mean < 4 * se + DESK_QUEUE_MAX
    assert abs(x.std(ddof=1) - sd) < 4 * sd / math.sqrt(2 * n)
    cal = calibrate_scenario(family, con)
    [change] = [c for c in cal.changes if c["field"] == "arrivals.punctuality"]
    assert change["new"] == {"dist": "normal", "mean": round(x.mean(), 1), "sd": round(x.std(ddof=1), 1)}
    assert change["old"] == {"dist": "normal", "mean": -8.0, "sd": 12.0} and change["n"] == n
    fitted = cal.scenario.arrivals.punctuality
    assert (fitted.mean, fitted.sd) == (change["new"]["mean"], change["new"]["sd"])


def test_punctuality_leaves_out_wild_check_ins_and_keeps_a_thin_history(family_store, tmp_path):
    import shutil

    family, con, _, tmp = family_store
    db = tmp_path / "copy.duckdb"
    shutil.copy(tmp / "h.duckdb", db)
    w = duckdb.connect(str(db))
    # five check-ins entered a day late: recording errors, not punctuality
    w.execute(
        """UPDATE appointments SET checkin_at = checkin_at + INTERVAL 1 DAY WHERE appointment_ref IN
           (SELECT appointment_ref FROM appointments WHERE checkin_at IS NOT NULL ORDER BY 1 LIMIT 5)"""
    )
    cal = calibrate_scenario(family, w)
    [change] = [c for c in cal.changes if c["field"] == "arrivals.punctuality"]
    assert change["n"] == len(checkin_minutes(con)) - 5
    x = checkin_minutes(con)  # five days' worth of minutes would have moved the mean by ~0.8
    assert abs(change["new"]["mean"] - x.mean()) < 0.1
    assert (
        "arrivals.punctuality: 5 check-in times more than 180 min from the appointment left out (recording errors)"
        in cal.kept
    )
    # with more visits needed than there are, the scenario's punctuality stays, and says so
    thin = calibrate_scenario(family, w, min_n=10**6)
    assert thin.scenario.arrivals.punctuality == family.arrivals.punctuality
    assert any(k.startswith("arrivals.punctuality: only ") and k.endswith("; kept") for k in thin.kept)
    w.close()
