"""What broke or slowed down when the practice is several times the family practice's size
(benchmarks/scale.py): the template solve that found nothing in its first budget, the room
assignment's use flags (providers × rooms × slots) and a day CP-SAT cannot finish in its budget.
No timings: calls and iterations are counted, and results compared with the reference."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicflow.domain.rooms import Rooms
from clinicflow.solver import cpsat, rooms, template
from clinicflow.solver.template import ESCALATE, escalated_budgets, solve_template
from clinicflow.solver.week import provider_sessions

MON = dt.date(2026, 11, 30)


def test_escalated_budgets_grow_to_the_ceiling_and_stop():
    assert escalated_budgets(0.6, None) == []
    assert escalated_budgets(0.6, 0.6) == []
    assert escalated_budgets(0.6, 20.0) == pytest.approx([0.6 * ESCALATE, 0.6 * ESCALATE**2, 20.0])


def test_a_template_not_found_in_the_first_budget_is_solved_again_with_more(family, monkeypatch):
    calls: list[float] = []
    real = template._solve

    def first_finds_nothing(scenario, sessions, grid, time_limit, seed, **kw):
        calls.append(time_limit)
        if len(calls) == 1:
            return cpsat.SolveResult("unknown", None, None)
        return real(scenario, sessions, grid, time_limit, seed, **kw)

    monkeypatch.setattr(template, "_solve", first_finds_nothing)
    res = solve_template(
        family, provider_sessions(family, MON), time_limit=0.5, max_time_limit=5.0, workers=1
    )
    assert res.status in ("optimal", "feasible") and res.counts
    assert calls[:2] == pytest.approx([0.5, 0.5 * ESCALATE])


def test_a_template_found_the_first_time_is_solved_once(family, monkeypatch):
    calls: list[float] = []
    real = template._solve

    def counting(*args, **kw):
        calls.append(args[3])
        return real(*args, **kw)

    monkeypatch.setattr(template, "_solve", counting)
    res = solve_template(
        family, provider_sessions(family, MON), time_limit=0.5, max_time_limit=5.0, workers=1
    )
    assert res.status in ("optimal", "feasible")
    assert calls == [0.5]  # the same solve as without a ceiling: a seed plans the same week


class _CountingList(list):
    """A list that counts how often it is iterated from the start."""

    iterations = 0

    def __iter__(self):
        type(self).iterations += 1
        return super().__iter__()


def _big_day(providers: int, per_provider: int) -> list[tuple[str, int, int, bool]]:
    """Each provider works two rooms all day, one patient every 10 minutes, every 7th a procedure."""
    out = []
    for p in range(providers):
        for k in range(per_provider):
            out.append((f"doc{p}", 480 + 10 * k, 480 + 10 * k + 20, (p + k) % 7 == 0 and k % 2 == 0))
    return out


def test_room_use_flags_are_built_in_one_pass_over_the_slots(family, monkeypatch):
    # 24 providers and 60 rooms: the use flags scanned every slot for every (provider, room) pair
    # (1,440 scans of the day's slots); now a fixed number of passes whatever the size
    ids = [f"E{i:02d}" for i in range(54)] + [f"P{i}" for i in range(6)]
    sc = family.model_copy(update={"rooms": Rooms(ids=ids, procedure_rooms=ids[54:])})
    day = _big_day(24, 20)
    _CountingList.iterations = 0
    counted = _CountingList(day)
    monkeypatch.setattr(rooms, "CPSAT_MAX_PAIRS", 10**9)  # build the model, whatever its size
    monkeypatch.setattr(rooms.cpsat, "solve", lambda *a, **k: cpsat.SolveResult("unknown", None, None))
    out = rooms.assign_rooms(sc, counted, label="big day")
    assert _CountingList.iterations <= 5
    assert out == rooms._greedy(day, ids, set(ids[54:]))


def test_a_day_cp_sat_cannot_finish_in_its_budget_gets_the_valid_greedy_rooms(family, monkeypatch):
    ids = [f"E{i:02d}" for i in range(10)] + ["P1", "P2"]
    sc = family.model_copy(update={"rooms": Rooms(ids=ids, procedure_rooms=["P1", "P2"])})
    day = _big_day(5, 24)
    monkeypatch.setattr(rooms.cpsat, "solve", lambda *a, **k: cpsat.SolveResult("unknown", None, None))
    out = rooms.assign_rooms(sc, day, label="Monday")
    greedy = rooms._greedy(day, ids, {"P1", "P2"})
    assert greedy is not None and out == greedy


def test_block_budgets_hold_the_time_limit_past_90_blocks_and_keep_the_family_weeks():
    from clinicflow.solver.plan import MIN_BLOCK_BUDGET, block_budget

    # the family week (55 blocks) keeps its budgets at every time limit, the 0.2 floor included
    assert block_budget(60, 55) == pytest.approx(0.15 * 60 * 2 / 55)
    assert block_budget(20, 55) == pytest.approx(0.2)
    # a week of 4x and 8x the blocks shares the floor's total instead of taking 0.2 a block
    for blocks in (230, 470, 2000):
        assert blocks * block_budget(60, blocks) <= max(18.0, blocks * MIN_BLOCK_BUDGET) + 1e-9
    assert block_budget(60, 2000) == pytest.approx(MIN_BLOCK_BUDGET)
    # twice the family week keeps its share; past it the totals shrink by sqrt(110 / blocks)
    assert block_budget(60, 110) == pytest.approx(18 / 110)
    assert block_budget(60, 220) == pytest.approx(18 * 0.5**0.5 / 220)
    assert block_budget(60, 440) == pytest.approx(18 * 0.5 / 440)
    assert block_budget(120, 440) == pytest.approx(36 * 0.5 / 440)


def test_a_day_past_the_pair_limit_gets_the_greedy_rooms_without_cp_sat(family, monkeypatch):
    ids = [f"E{i:02d}" for i in range(54)] + [f"P{i}" for i in range(6)]
    sc = family.model_copy(update={"rooms": Rooms(ids=ids, procedure_rooms=ids[54:])})
    day = _big_day(24, 20)  # 480 slots x 60 rooms
    assert len(day) * len(ids) > rooms.CPSAT_MAX_PAIRS

    def no_solve(*a, **k):
        raise AssertionError("CP-SAT was called")

    monkeypatch.setattr(rooms.cpsat, "solve", no_solve)
    assert rooms.assign_rooms(sc, day, label="big day") == rooms._greedy(day, ids, set(ids[54:]))
    # a family-sized day (120 slots x 12 rooms) still goes to CP-SAT
    small = [f"E{i:02d}" for i in range(10)] + ["P1", "P2"]
    sc = family.model_copy(update={"rooms": Rooms(ids=small, procedure_rooms=["P1", "P2"])})
    with pytest.raises(AssertionError, match="CP-SAT was called"):
        rooms.assign_rooms(sc, _big_day(5, 24), label="Monday")


def test_template_budget_starts_where_a_week_of_its_size_finds_a_template():
    from clinicflow.solver.plan import TEMPLATE_CEILING, template_budget

    # the family week and twice it: 1% of the limit, as before
    assert template_budget(60, 54) == pytest.approx(0.6)
    assert template_budget(60, 108) == pytest.approx(0.6)
    assert template_budget(20, 54) == pytest.approx(0.3)
    # 4x (216 sessions) starts at the 2.4 s that found its template, 8x (432) at the 9 s ceiling
    assert template_budget(60, 216) == pytest.approx(2.4)
    assert template_budget(60, 432) == pytest.approx(9.0)
    assert template_budget(600, 432) == pytest.approx(32.0)
    # always one of the budgets the escalation from 1% would have reached: the same templates
    for limit in (5, 20, 60, 300):
        base = max(0.3, min(2.0, 0.01 * limit))
        reached = [base, *escalated_budgets(base, TEMPLATE_CEILING * limit)]
        for sessions in (1, 54, 109, 216, 300, 432, 2000):
            assert any(template_budget(limit, sessions) == pytest.approx(b) for b in reached)


def test_sampled_days_shrink_in_proportion_past_110_blocks():
    from clinicflow.solver.plan import week_days

    assert week_days(60, 55, 40, 200, 300) == (40, 200, 300)  # the family week
    assert week_days(20, 55, 40, 200, 300) == (40, 200, 300)
    assert week_days(60, 110, 40, 200, 300) == (40, 200, 300)  # twice it
    assert week_days(60, 150, 40, 200, 300) == (29, 171, 257)
    assert week_days(60, 220, 40, 200, 300) == (20, 141, 212)  # 4x
    assert week_days(60, 440, 40, 200, 300) == (20, 100, 150)  # 8x: the floors
    assert week_days(120, 220, 40, 200, 300) == (40, 200, 300)  # a longer limit buys the days back
    assert week_days(60, 440, 10, 20, 30) == (10, 20, 30)  # never more than asked


# -- the template a day at a time (template_days) ----------------------------------------------------


def _copies(k: int):
    """``benchmarks/scale.py``'s k× practice (the one its figures are for): the family practice with
    every provider k times, exam and procedure rooms, front desk, MAs, walk-ins and weekly demand
    scaled by k."""
    import importlib.util

    from clinicflow.scenario_file import scenario_from_dict
    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("scale_benchmark", ROOT / "benchmarks" / "scale.py")
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    return scenario_from_dict(scale.scaled_practice(k))


def _solved_whole_with(scenario, values, grid=5) -> cpsat.SolveResult:
    """The week's whole template model with every count fixed to ``values``: feasible exactly when
    the counts keep every rule of the week, its objective the week's."""
    m, variables, _r, _e = template.build_template(scenario, provider_sessions(scenario, MON), grid=grid)
    for key, var in variables.items():
        m.add(var == values.get(key, 0))
    return cpsat.solve(m, {}, time_limit=60, workers=1)


def test_a_big_week_solved_by_day_keeps_every_rule_of_the_whole_week_and_meets_demand(family):
    from clinicflow.solver import template_days

    big = _copies(2)  # 110 blocks, solved a day at a time by request (4x took 30 s for the same checks)
    sessions = provider_sessions(big, MON)
    a = solve_template(big, sessions, time_limit=0.6, max_time_limit=9.0, workers=2, by_day=True)
    assert a.status == "feasible" and a.bound <= a.objective
    assert all(c["planned"] >= round(c["weekly"]) for c in a.coverage), a.coverage
    values = {
        (("h", key, j) if t == template.HOLD else ("n", key, j, t)): v
        for key, segs in a.counts.items()
        for j, seg in segs.items()
        for t, v in seg.items()
    }
    whole = _solved_whole_with(big, values)
    assert whole.status == "optimal"  # a feasible point of the week's model: every rule holds
    assert whole.objective == a.objective == template_days.week_objective(big, sessions, values)
    # one worker or two, the same template
    b = solve_template(big, sessions, time_limit=0.6, max_time_limit=9.0, workers=1, by_day=True)
    assert b.counts == a.counts


def test_week_objective_is_the_whole_models_objective(family):
    from clinicflow.solver import template_days

    sessions = provider_sessions(family, MON)
    res = template._solve(family, sessions, 5, 0.6, 0, overbook=False)
    assert res.has_solution
    assert template_days.week_objective(family, sessions, res.values) == res.objective
    # one slot moved off its row's target changes it
    key = next(k for k, v in res.values.items() if k[0] == "n" and v > 0)
    assert template_days.week_objective(family, sessions, {**res.values, key: res.values[key] - 1}) != (
        res.objective
    )


def test_the_days_targets_add_up_to_the_masters_rows(family):
    from clinicflow.solver import template_days

    big = _copies(2)
    sessions = provider_sessions(big, MON)
    status, bound, x = template_days.solve_master(big, sessions)
    assert status == "optimal" and bound > 0
    split = template_days.split_days(big, sessions, x)
    per_day = template_days.day_targets(big, sessions, split)
    for i, row in enumerate(template.week_targets(big, sessions)):
        total = round(sum(v for (key, t), v in x.items() if t == row.type and key[1] in row.providers))
        assert sum(day[i].want for day in per_day.values()) == total
        assert total >= row.want  # the master meets demand: the days only have to meet their share
        for day in per_day.values():
            assert day[i].want == sum(day[i].shares.values())


def test_a_day_without_a_template_sends_the_week_to_the_whole_solve(family, monkeypatch):
    from clinicflow.solver import template_days

    calls: list = []
    real = template._solve
    monkeypatch.setattr(
        template_days, "solve_by_day", lambda *a, **k: cpsat.SolveResult("unknown", None, None)
    )
    monkeypatch.setattr(template, "_solve", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    res = solve_template(family, provider_sessions(family, MON), time_limit=0.5, workers=1, by_day=True)
    assert res.status in ("optimal", "feasible") and calls == [0.5]


@pytest.mark.parametrize(("k", "by_day"), [(1, False), (2, False), (4, True)])
def test_the_template_is_solved_by_day_only_past_big_week_blocks(family, monkeypatch, k, by_day):
    import clinicflow.solver.plan as plan_module

    seen: dict = {}

    class Stop(Exception):
        pass

    def spy(scenario, sessions, **kw):
        seen.update(kw, blocks=sum(len(ps.blocks) for ps in sessions))
        raise Stop

    monkeypatch.setattr(plan_module, "solve_template", spy)
    with pytest.raises(Stop):
        plan_module.plan_week(_copies(k), MON, time_limit=60)
    assert seen["by_day"] is by_day and (seen["blocks"] > plan_module.BIG_WEEK_BLOCKS) is by_day
    # a day's first budget is a week of the day's size: 0.6 s at 4x (48 sessions a day), not 2.4
    assert seen["time_limit"] == pytest.approx(0.6)
