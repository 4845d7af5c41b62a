"""The SQL report equals an independent pandas computation from the raw file."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from clinicflow.data.report import history_report
from clinicflow.data.store import import_history
from history_helpers import _key_in_tmp, generic_file, kaggle_file  # noqa: F401


def _independent(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Rates by each breakdown, from the file itself with pandas only."""
    df = raw.copy()
    df["start"] = pd.to_datetime(df["start_at"])
    df["day"] = df["start"].dt.normalize()
    df["lead"] = (df["day"] - pd.to_datetime(df["scheduled_at"]).dt.normalize()).dt.days
    df["booked"] = df["status"] != "cancelled"
    df["ns"] = df["status"] == "no_show"
    df["lc"] = df["status"] == "late_cancel"
    df["weekday"] = df["day"].dt.day_of_week.map(
        dict(enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
    )
    df["hour"] = df["start"].dt.strftime("%H:00")
    df["lead_band"] = pd.cut(
        df["lead"],
        [-1, 0, 2, 7, 14, 30, 60, 10**6],
        labels=["0", "1-2", "3-7", "8-14", "15-30", "31-60", "61+"],
    ).astype(str)
    df["age_band"] = pd.cut(
        df["age"].astype(int),
        [-1, 17, 29, 44, 64, 79, 500],
        labels=["0-17", "18-29", "30-44", "45-64", "65-79", "80+"],
    ).astype(str)
    df["reminder"] = df["reminder"].map({"yes": "yes", "no": "no"})
    # prior no-shows: the patient's no-shows on strictly earlier days
    per_day = df.groupby(["patient_id", "day"])["ns"].sum().reset_index().sort_values(["patient_id", "day"])
    per_day["prior"] = per_day.groupby("patient_id")["ns"].cumsum() - per_day["ns"]
    df = df.merge(per_day[["patient_id", "day", "prior"]], on=["patient_id", "day"], how="left")
    df["prior_no_shows"] = np.where(df["prior"] >= 3, "3+", df["prior"].astype(int).astype(str))
    out = {}
    for dim in (
        "weekday",
        "hour",
        "lead_band",
        "age_band",
        "appointment_type",
        "provider",
        "reminder",
        "prior_no_shows",
    ):
        g = df.groupby(dim).agg(
            appointments=("status", "size"),
            booked=("booked", "sum"),
            no_shows=("ns", "sum"),
            late_cancels=("lc", "sum"),
        )
        g["no_show_rate"] = g["no_shows"] / g["booked"]
        g["late_cancel_rate"] = g["late_cancels"] / g["booked"]
        out[dim] = g
    return out


@pytest.fixture(scope="module")
def generic_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    f, _frame = generic_file(tmp / "g.csv", rows=4000, seed=21)
    db = tmp / "h.duckdb"
    import_history(f, db, key_file=tmp / "key")
    raw = pd.read_csv(f, dtype=str, keep_default_na=False)
    con = duckdb.connect(str(db), read_only=True)
    yield history_report(con), raw
    con.close()


def test_overall_numbers_equal_pandas(generic_store):
    report, raw = generic_store
    o = report["overall"]
    booked = raw["status"] != "cancelled"
    assert o["appointments"] == len(raw)
    assert o["booked"] == booked.sum()
    assert o["no_shows"] == (raw["status"] == "no_show").sum()
    assert o["no_show_rate"] == pytest.approx((raw["status"] == "no_show").sum() / booked.sum(), abs=1e-12)
    assert report["volume"]["patients"] == raw["patient_id"].nunique()


@pytest.mark.parametrize(
    "dim",
    [
        "weekday",
        "hour",
        "lead_band",
        "age_band",
        "appointment_type",
        "provider",
        "reminder",
        "prior_no_shows",
    ],
)
def test_breakdown_equals_pandas(generic_store, dim):
    report, raw = generic_store
    expected = _independent(raw)[dim]
    got = {r[dim]: r for r in report["by"][dim]}
    assert set(got) == set(expected.index)
    for key, row in expected.iterrows():
        g = got[key]
        assert (g["appointments"], g["booked"], g["no_shows"], g["late_cancels"]) == (
            row["appointments"],
            row["booked"],
            row["no_shows"],
            row["late_cancels"],
        ), key
        assert g["no_show_rate"] == pytest.approx(row["no_show_rate"], abs=1e-12)
        assert g["late_cancel_rate"] == pytest.approx(row["late_cancel_rate"], abs=1e-12)
    # the breakdown partitions the appointments
    assert sum(r["appointments"] for r in report["by"][dim]) == len(raw)


def test_prior_no_show_gradient_is_visible(generic_store):
    report, _ = generic_store
    rates = {r["prior_no_shows"]: r["no_show_rate"] for r in report["by"]["prior_no_shows"]}
    assert rates["0"] < rates["1"] < rates["3+"]


def test_noshow_layout_report_has_no_hours_and_matches_pandas(tmp_path):
    f, frame = kaggle_file(tmp_path / "k.csv", rows=2000)
    db = tmp_path / "h.duckdb"
    import_history(f, db, key_file=tmp_path / "key")
    con = duckdb.connect(str(db), read_only=True)
    report = history_report(con)
    con.close()
    assert [r["hour"] for r in report["by"]["hour"]] == ["unknown"]
    lead = (
        pd.to_datetime(frame["AppointmentDay"]).dt.tz_localize(None).dt.normalize()
        - pd.to_datetime(frame["ScheduledDay"]).dt.tz_localize(None).dt.normalize()
    ).dt.days
    sms = {r["reminder"]: r for r in report["by"]["reminder"]}
    for flag, label in ((1, "yes"), (0, "no")):
        sel = frame["SMS_received"] == flag
        assert sms[label]["no_shows"] == (frame.loc[sel, "No-show"] == "Yes").sum()
    same_day = {r["lead_band"]: r for r in report["by"]["lead_band"]}["0"]
    assert same_day["booked"] == (lead == 0).sum()
    assert same_day["no_shows"] == ((lead == 0) & (frame["No-show"] == "Yes")).sum()


def test_segment_chart_draws_each_rate_with_its_wilson_interval(generic_store):
    """The no-show page's bars: each segment's rate with its 95% Wilson interval, computed here from
    the counts with SciPy's binomtest (its Wilson interval, not clinicflow's), and the overall rate
    as a dashed line the legend names."""
    from scipy.stats import binomtest

    from clinicflow.viz.noshow import segment_figure

    report, _ = generic_store
    fig = segment_figure(report, "lead_band")
    bars = fig.data[0]
    rows = [r for r in report["by"]["lead_band"] if r["booked"]]
    assert list(bars.x) == [r["lead_band"] for r in rows]
    for r, y, up, down in zip(rows, bars.y, bars.error_y.array, bars.error_y.arrayminus, strict=True):
        ci = binomtest(r["no_shows"], r["booked"]).proportion_ci(0.95, method="wilson")
        assert y == pytest.approx(r["no_shows"] / r["booked"], abs=1e-12)
        assert (y - down, y + up) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert fig.data[1].name == f"overall {report['overall']['no_show_rate']:.1%}"
