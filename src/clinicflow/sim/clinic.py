"""The clinic day in SimPy: patients flow desk → exam room (+ MA rooming) → provider → checkout.

Model (one SimPy environment per day, clock = minutes since midnight):

* A booked patient arrives at appointment time + punctuality (not before the doors open), unless a
  no-show or late cancellation.
  Patients later than ``arrivals.late_cutoff_min`` are turned away (rebooked).
* In-person patients check in at the front desk (``front_desk.count`` clerks, FIFO; no desk step when
  the count is 0), then need one of their provider's ``rooms_at_once`` room slots *and* a free exam room
  (a procedure room for procedure types), then an MA for ``rooming_min`` when the type has one. Rooms are
  given out by appointment time, not arrival order. Telehealth patients need neither desk nor room.
* The provider is an active process working its sessions: it sees the ready patient with the earliest
  appointment time (early patients may be seen early when the provider is free), takes each break when
  free (a visit that overruns shortens the break), and stays past the session end while any patient of
  the session is still to come: that time is overtime.
* After the visit the room is cleaned (turnover) before it is free again; patients of types with
  checkout queue at the same desk, then leave.
* Walk-ins (Poisson per hour) take the earliest open hold slot of a provider who sees their type (if
  the slot starts later they come back for it); without one they join a shared queue served by any
  eligible provider on duty; with no eligible session left that day they are turned away.
* The day ends at ``closes + HARD_STOP_AFTER_CLOSE_MIN``; anyone not yet seen is *unseen at close*.

Processes only stamp times into flat records (``records.py``); KPIs are computed afterwards.
"""

from __future__ import annotations

import heapq

import numpy as np
import simpy

from . import records as R
from .patient import (
    NO_SHOW,
    Draws,
    WalkIn,
)
from .plan import DayPlan, Plan
from .resources import BUSY, Pool


class _Session:
    """Run-time state of one session: how many of its patients are still to come."""

    __slots__ = ("breaks", "end", "pending", "provider", "sid", "start")

    def __init__(self, sp, provider):
        self.sid = sp.sid
        self.start = sp.start
        self.end = sp.end
        self.breaks = sp.breaks
        self.pending = 0
        self.provider = provider


class _Provider:
    __slots__ = ("heap", "idle", "index", "on_duty", "sees", "sessions", "token")

    def __init__(self, index: int, sees: frozenset, token: Pool):
        self.index = index
        self.sees = sees
        self.token = token
        self.heap: list = []
        self.idle: simpy.Event | None = None
        self.on_duty = False
        self.sessions: list[_Session] = []


class _Patient:
    __slots__ = (
        "appt",
        "check_in",
        "checkout",
        "held",
        "in_person",
        "key",
        "needs_ma",
        "procedure",
        "provider",
        "registered",
        "rooming",
        "row",
        "session",
        "turnover",
        "type",
        "visit",
        "visits",
        "wants_checkout",
    )


def _wake(p: _Provider) -> None:
    """Wake an idle provider to look at its queue again (patients ready, pending count changed)."""
    ev = p.idle
    if ev is not None:
        p.idle = None
        ev.succeed()


class ClinicDay:
    """One simulated day. ``run()`` returns the day's records as a list of rows."""

    def __init__(self, plan: Plan, day: DayPlan, draws: Draws, walk_ins: list[WalkIn], first_patient: int):
        self.plan = plan
        self.day = day
        s = plan.scenario
        env = self.env = simpy.Environment()
        self.desk = Pool(env, day.desk) if day.desk > 0 else None
        self.ma = Pool(env, day.mas)
        self.exam = Pool(env, len(plan.exam_rooms), plan.exam_rooms)
        self.proc = Pool(env, len(plan.procedure_rooms), plan.procedure_rooms)
        self.cutoff = s.arrivals.late_cutoff_min
        self.rows: list[list] = []
        self.seq = 0
        self.providers: dict[int, _Provider] = {}
        sessions: dict[int, _Session] = {}
        for pi, sps in day.sessions.items():
            prov = s.providers[pi]
            pr = _Provider(
                pi,
                frozenset(plan.types.index(t) for t in prov.appointment_types),
                Pool(env, prov.rooms_at_once),
            )
            for sp in sps:
                ss = _Session(sp, pr)
                pr.sessions.append(ss)
                sessions[sp.sid] = ss
            self.providers[pi] = pr
        self.sessions = sessions
        self.pool_heaps: dict[int, list] = {}
        self.holds = [[h, False] for h in day.holds]
        self.patient_no = first_patient
        self._booked(draws)
        for w in walk_ins:
            env.process(self._walk_in(w))
        for pr in self.providers.values():
            env.process(self._provider(pr))

    # -- patients ------------------------------------------------------------------------------
    def _new_patient(self, appt, walk_in, type_ix, provider) -> _Patient:
        p = _Patient()
        p.row = R.new_row(self.day.index, self.patient_no, appt, walk_in, type_ix, provider)
        self.patient_no += 1
        self.rows.append(p.row)
        plan = self.plan
        p.type = type_ix
        p.in_person = bool(plan.t_in_person[type_ix])
        p.needs_ma = bool(plan.t_needs_ma[type_ix])
        p.procedure = bool(plan.t_procedure[type_ix])
        p.wants_checkout = bool(plan.t_checkout[type_ix])
        p.registered = ()
        p.session = None
        return p

    def _booked(self, d: Draws) -> None:
        plan = self.plan
        env = self.env
        idx = self.day.patients
        appt, prov, typ, sid = (
            plan.p_appt[idx].tolist(),
            plan.p_provider[idx].tolist(),
            plan.p_type[idx].tolist(),
            plan.p_session[idx].tolist(),
        )
        outcome, arrival = d.outcome[idx].tolist(), d.arrival[idx].tolist()
        check_in, checkout, rooming = (
            d.check_in[idx].tolist(),
            d.checkout[idx].tolist(),
            d.rooming[idx].tolist(),
        )
        turnover, visit = d.turnover[idx].tolist(), d.visit[idx].tolist()
        for i in range(len(idx)):
            p = self._new_patient(appt[i], False, typ[i], prov[i])
            p.appt = p.key = appt[i]
            out = outcome[i]
            if out != 0:
                p.row[R.OUTCOME] = R.NO_SHOW if out == NO_SHOW else R.LATE_CANCEL
                continue
            p.provider = self.providers[prov[i]]
            p.session = self.sessions[sid[i]]
            p.session.pending += 1
            p.row[R.SESSION] = sid[i]
            p.check_in = check_in[i]
            p.checkout = checkout[i]
            p.rooming = rooming[i]
            p.turnover = turnover[i]
            p.visit = visit[i]
            env.process(self._booked_patient(p, arrival[i]))

    def _booked_patient(self, p: _Patient, arrival: float):
        env = self.env
        yield env.timeout(arrival)
        p.row[R.ARRIVAL] = env.now
        if self.cutoff is not None and env.now - p.appt > self.cutoff:
            p.row[R.OUTCOME] = R.TURNED_AWAY
            p.session.pending -= 1
            _wake(p.provider)
            return
        yield from self._flow(p)

    def _walk_in(self, w: WalkIn):
        env = self.env
        yield env.timeout(w.arrival)
        now = env.now
        p = self._new_patient(now, True, w.type, -1)
        p.row[R.ARRIVAL] = now
        p.check_in = w.check_in
        p.checkout = w.checkout
        p.turnover = w.turnover
        p.rooming = w.rooming
        p.visits = w.visit
        p.visit = None
        hold = self._take_hold(w.type, now)
        if hold is not None:
            pr = self.providers[hold.provider]
            p.provider = pr
            p.row[R.PROVIDER] = hold.provider
            p.session = self.sessions[hold.sid]
            p.session.pending += 1
            p.row[R.SESSION] = hold.sid
            p.appt = p.key = float(hold.start)
            p.row[R.APPOINTMENT] = p.appt
            p.visit = w.visit[hold.provider]
            if hold.start > now:  # told to come back for the slot
                yield env.timeout(hold.start - now)
                p.row[R.ARRIVAL] = env.now
        else:
            reg = self._register(w.type, now)
            if not reg:
                p.row[R.OUTCOME] = R.TURNED_AWAY
                return
            for ss in reg:
                ss.pending += 1
            p.registered = reg
            p.provider = None
            p.appt = p.key = now
        yield from self._flow(p)

    def _take_hold(self, type_ix: int, now: float):
        for entry in self.holds:
            h, taken = entry
            if taken or h.end <= now:
                continue
            if type_ix in self.providers[h.provider].sees:
                entry[1] = True
                return h
        return None

    def _register(self, type_ix: int, now: float) -> tuple[_Session, ...]:
        """Sessions whose provider will see a pooled walk-in: those on now, else the next to start."""
        eligible = [pr for pr in self.providers.values() if type_ix in pr.sees]
        current = tuple(ss for pr in eligible for ss in pr.sessions if ss.start <= now < ss.end)
        if current:
            return current
        later = [ss for pr in eligible for ss in pr.sessions if ss.start > now]
        if not later:
            return ()
        first = min(ss.start for ss in later)
        return tuple(ss for ss in later if ss.start == first)

    def _flow(self, p: _Patient):
        """Desk, room and rooming, up to the provider's queue: the path every patient who shows takes.

        A free resource is taken without an event and a zero duration without a timeout: the
        patient simply moves on at the same instant.
        """
        env = self.env
        row = p.row
        desk = self.desk
        if p.in_person:
            if desk is not None:
                if desk.take() is BUSY:
                    yield desk.acquire(env.now)
                row[R.CHECK_IN_START] = env.now
                if p.check_in > 0:
                    yield env.timeout(p.check_in)
                row[R.CHECK_IN_END] = env.now
                desk.release()
            token = p.provider.token if p.provider is not None else None
            if token is not None and token.take() is BUSY:
                yield token.acquire(p.key)
            rooms = self.proc if p.procedure else self.exam
            room = rooms.take()
            if room is BUSY:
                room = yield rooms.acquire(p.key)
            row[R.ROOM] = room
            row[R.ROOMED] = env.now
            if p.needs_ma:
                ma = self.ma
                if ma.take() is BUSY:
                    yield ma.acquire(p.key)
                row[R.ROOMING_START] = env.now
                if p.rooming > 0:
                    yield env.timeout(p.rooming)
                row[R.ROOMING_END] = env.now
                ma.release()
        row[R.READY] = env.now
        p.held = (token, rooms, room) if p.in_person else None
        self.seq += 1
        entry = (p.key, self.seq, p)
        if p.provider is not None:
            heapq.heappush(p.provider.heap, entry)
            _wake(p.provider)
        else:
            heapq.heappush(self.pool_heaps.setdefault(p.type, []), entry)
            for pr in self.providers.values():
                if pr.on_duty and p.type in pr.sees:
                    _wake(pr)
        # The provider takes it from here (``_after_visit``).

    def _after_visit(self, p: _Patient) -> None:
        """Turnover, then checkout and exit: chained callbacks, run by the provider at the visit end.

        The patient needs no process of its own after the visit: each step is a callback on the
        event that ends the previous one, which saves a process wake-up per step.
        """
        env = self.env
        row = p.row
        if p.held is None:
            row[R.EXIT] = env.now
            return
        token, rooms, room = p.held
        if p.turnover > 0:
            env.timeout(p.turnover).callbacks.append(lambda _e: self._free_room(p, token, rooms, room))
        else:
            self._free_room(p, token, rooms, room)
        desk = self.desk
        if not p.wants_checkout or desk is None:
            row[R.EXIT] = env.now
        elif desk.take() is BUSY:
            desk.acquire(env.now).callbacks.append(lambda _e: self._check_out(p))
        else:
            self._check_out(p)

    def _check_out(self, p: _Patient) -> None:
        env = self.env
        p.row[R.CHECKOUT_START] = env.now
        if p.checkout > 0:
            env.timeout(p.checkout).callbacks.append(lambda _e: self._leave(p))
        else:
            self._leave(p)

    def _leave(self, p: _Patient) -> None:
        now = self.env.now
        p.row[R.CHECKOUT_END] = now
        p.row[R.EXIT] = now
        self.desk.release()

    def _free_room(self, p: _Patient, token: Pool | None, rooms: Pool, room: int) -> None:
        p.row[R.ROOM_FREE] = self.env.now
        rooms.release(room)
        if token is not None:
            token.release()

    # -- providers -----------------------------------------------------------------------------
    def _next_patient(self, pr: _Provider) -> _Patient | None:
        best = pr.heap[0] if pr.heap else None
        src = pr.heap
        for t, h in self.pool_heaps.items():
            if h and t in pr.sees and (best is None or h[0] < best):
                best, src = h[0], h
        if best is None:
            return None
        heapq.heappop(src)
        return best[2]

    def _provider(self, pr: _Provider):
        env = self.env
        for ss in pr.sessions:
            if env.now < ss.start:
                yield env.timeout(ss.start - env.now)
            pr.on_duty = True
            breaks = ss.breaks
            bi = 0
            while True:
                now = env.now
                if now < ss.end and bi < len(breaks):
                    while bi < len(breaks) and breaks[bi][1] <= now:
                        bi += 1
                    if bi < len(breaks) and breaks[bi][0] <= now:
                        yield env.timeout(breaks[bi][1] - now)
                        bi += 1
                        continue
                p = self._next_patient(pr)
                if p is not None:
                    if p.session is not None:
                        p.session.pending -= 1
                    else:
                        for other in p.registered:
                            other.pending -= 1
                            if other.provider is not pr:
                                _wake(other.provider)
                        p.row[R.PROVIDER] = pr.index
                        p.visit = p.visits[pr.index]
                    p.row[R.SESSION] = ss.sid
                    p.row[R.PROVIDER_START] = now
                    yield env.timeout(p.visit)
                    p.row[R.PROVIDER_END] = env.now
                    self._after_visit(p)
                    continue
                if now >= ss.end and ss.pending <= 0:
                    break
                pr.idle = ev = simpy.Event(env)
                if now < ss.end:
                    # Look again at the session end: the provider may leave then.
                    env.timeout(ss.end - now).callbacks.append(
                        lambda _e, ev=ev, pr=pr: pr.idle is ev and _wake(pr)
                    )
                yield ev
            pr.on_duty = False

    # -- run -----------------------------------------------------------------------------------
    def run(self) -> list[list]:
        self.env.run(until=self.day.hard_stop)
        for row in self.rows:
            if row[R.OUTCOME] != row[R.OUTCOME]:  # NaN: showed up
                row[R.OUTCOME] = R.SEEN if row[R.PROVIDER_END] == row[R.PROVIDER_END] else R.UNSEEN
        return self.rows


def simulate_day(
    plan: Plan, day: DayPlan, draws: Draws, walk_ins: list[WalkIn], first_patient: int
) -> np.ndarray:
    """Records (rows x ``records.N_FIELDS``) of one day."""
    rows = ClinicDay(plan, day, draws, walk_ins, first_patient).run()
    return np.array(rows, dtype=float).reshape(-1, R.N_FIELDS)
