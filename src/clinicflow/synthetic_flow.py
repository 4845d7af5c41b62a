"""A synthetic history's clinic times, simulated: the days it booked, run through the simulator.

``data.synthetic.generate_history`` books a scenario's sessions and draws who came; the clinic
timestamps of the visits (check-in, roomed, provider start and end, checkout) have to come from
somewhere. Drawn row by row they are not a queue — a provider sees two patients at once, nobody
waits for a busy provider — so the history's waits and end-of-day times would say nothing about the
practice. Here every booked day is simulated instead, **conditional on the history's attendance**
(``replay.history_schedule``: an attended row is a patient who comes for sure, a no-show one who
never does; walk-ins and late cancellations off, ``replay.replay_scenario``), and each attended
row takes its timestamps from its simulated patient:

* ``checkin_at``: when the desk starts checking the patient in (``check_in_start``, after any queue
  at the desk: the instant an EHR records; the arrival for a type with no desk step, telehealth);
* ``roomed_at``: when the MA takes the patient in (``rooming_start``; the room's instant for a type
  without rooming; empty for telehealth, which has no room);
* ``provider_start_at`` / ``provider_end_at``: the provider's visit;
* ``checkout_at``: the end of checkout (the patient's exit for a type without one);
* ``true_duration``: the simulated visit, provider end minus start (minutes).

Every attended row is seen: the replay turns nobody away for coming late (a patient recorded as
seen was seen), so the history's no-show rates, punctuality and durations are the scenario's and
``calibrate`` recovers them. A patient still waiting at the simulator's hard stop (the close plus 4
hours) would leave unseen and be recorded as a no-show; ``FlowSummary`` counts them (none on the
family practice). Their rows keep no timestamps, so every attended row is a visit that happened,
with its times in order.

The simulator runs all the days in one replication (days are independent: each patient draws from
its own keyed stream, ``sim/patient.py``) with a seed derived from the history's seed through the
keyed stream ``synthetic-flow`` (``simulation_seed``): the same seed gives the same file, and a
back-test run with a small seed of its own does not replay the very draws that made the history.

It stands above ``data`` and ``sim`` (which must not import each other): ``data.synthetic`` makes
the frame, this module fills its clinic times, the ``history synthesize`` command calls both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data.synthetic import generate_history
from .domain.scenario import Scenario
from .replay import RECORDED_AS, history_schedule, replay_scenario
from .sim import records as R
from .sim.plan import build_plan
from .sim.replications import replication_records
from .streams import keyed_sequence

#: The history's clinic-time columns, in the order a visit passes them.
TIMESTAMPS = tuple(RECORDED_AS)


@dataclass(frozen=True)
class FlowSummary:
    """What simulating a synthetic history's days did.

    ``seed`` is the simulator's seed (``simulation_seed``); ``days`` the days simulated; ``seen``
    the attended rows that got simulated clinic times; ``unseen`` those still waiting at the hard
    stop, no-shows in the history now.
    """

    seed: int
    days: int
    seen: int
    unseen: int


def simulation_seed(seed: int) -> int:
    """The simulator's seed for a history drawn with ``seed``: a 64-bit integer from the keyed stream
    ``synthetic-flow`` of ``SeedSequence(seed)`` (the generator draws from its ``synthetic-history``
    sibling), so the simulator's replication stream is a fixed function of ``seed``, and not the
    stream a back-test with the same small seed reads."""
    words = keyed_sequence(np.random.SeedSequence(seed), "synthetic-flow").generate_state(2, np.uint32)
    return int(words[0]) | (int(words[1]) << 32)


def simulate_clinic_times(
    frame: pd.DataFrame, scenario: Scenario, seed: int
) -> tuple[pd.DataFrame, FlowSummary]:
    """``frame`` (``generate_history`` with this ``scenario``) with its clinic times simulated.

    Returns a copy: the attended rows' ``TIMESTAMPS`` and ``true_duration`` from the simulated
    days, the rows the simulator did not see turned into no-shows (module docstring), and what
    happened. Row order and every other column stay as they were.
    """
    out = frame.copy()
    replay = history_schedule(out, scenario)
    schedule, rows = replay.schedule, replay.rows
    status = out["status"].to_numpy(dtype=object).copy()
    attended = status == "attended"
    # every attended row of a history drawn from the scenario is replayed (no odd type, day or time)
    missing = attended.copy()
    missing[rows] = False
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} attended rows cannot be replayed through the scenario ({replay.skipped})"
        )
    sim_seed = simulation_seed(seed)
    dates = sorted(set(schedule["date"]))
    n = len(out)
    times = {name: np.full(n, np.nan) for name in TIMESTAMPS}
    duration = np.full(n, np.nan)
    unseen = 0
    if len(schedule):
        plan = build_plan(replay_scenario(scenario), schedule, dates)
        rec = replication_records(plan, sim_seed, 0)
        # The simulator numbers the booked patients in plan order — day by day, each day's rows in
        # the schedule's order — before any walk-in (there are none): patient k is schedule row k.
        patient = rec[:, R.PATIENT].astype(np.int64)
        if len(rec) != len(schedule) or not np.array_equal(patient, np.arange(len(schedule))):
            raise AssertionError("the simulator's patients are not the schedule's rows")
        if not np.array_equal(rec[:, R.APPOINTMENT], schedule["start_min"].to_numpy(dtype=float)):
            raise AssertionError("a simulated appointment time differs from its history row's start")
        src = rows[patient]  # the history row of each simulated patient
        outcome = rec[:, R.OUTCOME].astype(np.int64)
        came = attended[src]
        if (outcome[~came] != R.NO_SHOW).any() or (outcome[came] == R.NO_SHOW).any():
            raise AssertionError("the replay did not keep the history's attendance")
        seen = came & (outcome == R.SEEN)
        lost = came & ~seen
        if (outcome[lost] != R.UNSEEN).any():
            raise AssertionError("the replay turned a patient away")
        unseen = int(lost.sum())
        status[src[lost]] = "no_show"

        def pick(fields: tuple[str, ...]) -> np.ndarray:
            x = rec[:, R.FIELDS.index(fields[0])].copy()
            for name in fields[1:]:
                x = np.where(np.isnan(x), rec[:, R.FIELDS.index(name)], x)
            return x

        at = src[seen]
        for name, fields in RECORDED_AS.items():
            times[name][at] = pick(fields)[seen]
        duration[at] = (rec[:, R.PROVIDER_END] - rec[:, R.PROVIDER_START])[seen]
    day = pd.to_datetime(out["start_at"]).to_numpy().astype("datetime64[D]").astype("datetime64[s]")
    for name, minutes in times.items():
        ok = ~np.isnan(minutes)
        secs = np.round(np.where(ok, minutes, 0.0) * 60).astype(np.int64)
        stamp = day + secs.astype("timedelta64[s]")
        out[name] = pd.Series(stamp, index=out.index).where(ok)
    out["status"] = status
    out["true_duration"] = duration
    summary = FlowSummary(
        seed=sim_seed,
        days=len(dates),
        seen=int(np.isfinite(duration).sum()),
        unseen=unseen,
    )
    return out, summary


def generate_flow_history(
    n: int,
    seed: int = 0,
    start: dt.date = dt.date(2025, 1, 6),
    weeks: int = 26,
    scenario: Scenario | None = None,
    cancellations: bool = True,
) -> tuple[pd.DataFrame, FlowSummary | None]:
    """``generate_history`` with, given a ``scenario``, its clinic times simulated
    (``simulate_clinic_times``); without one the generator's own timestamps stay (there are no
    sessions to simulate) and the summary is ``None``."""
    frame = generate_history(
        n, seed=seed, start=start, weeks=weeks, scenario=scenario, cancellations=cancellations
    )
    if scenario is None:
        return frame, None
    return simulate_clinic_times(frame, scenario, seed)
