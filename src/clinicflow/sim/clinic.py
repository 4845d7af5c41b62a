"""The clinic day: patients flow desk → exam room (+ MA rooming) → provider → checkout.

Model (one event loop per day, clock = minutes since midnight):

* A booked patient arrives at appointment time + punctuality (not before the doors open), unless a
  no-show or late cancellation.
  Patients later than ``arrivals.late_cutoff_min`` are turned away (rebooked).
* In-person patients check in at the front desk (``front_desk.count`` clerks, FIFO; no desk step when
  the count is 0), then need one of their provider's ``rooms_at_once`` room slots *and* a free exam room
  (a procedure room for procedure types), then an MA for ``rooming_min`` when the type has one. Rooms are
  given out by appointment time, not arrival order. Telehealth patients need neither desk nor room.
* The provider works its sessions (a state machine, ``_work``): it sees the ready patient with the earliest
  appointment time (early patients may be seen early when the provider is free), takes each break when
  free (a visit that overruns shortens the break), and stays past the session end while any patient of
  the session is still to come: that time is overtime.
* After the visit the room is cleaned (turnover) before it is free again; patients of types with
  checkout queue at the same desk, then leave.
* Walk-ins (Poisson per hour) take the earliest open hold slot of a provider who sees their type (if
  the slot starts later they come back for it); without one they join a shared queue served by any
  eligible provider on duty; with no eligible session left that day they are turned away.
* The day ends at ``closes + HARD_STOP_AFTER_CLOSE_MIN``; anyone not yet seen is *unseen at close*.

Every step is a callback scheduled on an engine (``engine.py``): SimPy's event loop, or a lean heap
loop with the same event order (the default; both give identical records). Patients and providers are
small state machines rather than generator processes, which saves a process wake-up per step; the
callbacks only stamp times into flat records (``records.py``); KPIs are computed afterwards.
"""

from __future__ import annotations

import heapq

import numpy as np

from . import records as R
from .engine import make_engine
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
    """A provider's run-time state: a small state machine over its sessions and breaks.

    ``idle`` is true while the provider waits for a patient (to be woken by ``_wake``).
    """

    __slots__ = ("bi", "current", "heap", "idle", "index", "on_duty", "sees", "sessions", "si", "token")

    def __init__(self, index: int, sees: frozenset, token: Pool):
        self.index = index
        self.sees = sees
        self.token = token
        self.heap: list = []
        self.idle = False
        self.on_duty = False
        self.sessions: list[_Session] = []
        self.si = 0  # current session
        self.bi = 0  # next break of the current session
        self.current: _Patient | None = None


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
        "unit",
        "visit",
        "visits",
        "wants_checkout",
    )


class ClinicDay:
    """One simulated day. ``run()`` returns the day's records as a list of rows."""

    def __init__(
        self,
        plan: Plan,
        day: DayPlan,
        draws: Draws,
        walk_ins: list[WalkIn],
        first_patient: int,
        engine: str = "lean",
    ):
        self.plan = plan
        self.day = day
        s = plan.scenario
        eng = self.engine = make_engine(engine)
        self.desk = self._staff(day.desk) if any(n for *_, n in day.desk) else None
        self.ma = self._staff(day.mas)
        self.exam = Pool(eng, len(plan.exam_rooms), plan.exam_rooms)
        self.proc = Pool(eng, len(plan.procedure_rooms), plan.procedure_rooms)
        self.cutoff = s.arrivals.late_cutoff_min
        self.type_flags = list(
            zip(
                plan.t_in_person.tolist(),
                plan.t_needs_ma.tolist(),
                plan.t_procedure.tolist(),
                plan.t_checkout.tolist(),
                strict=True,
            )
        )
        self.rows: list[list] = []
        self.seq = 0
        self.providers: dict[int, _Provider] = {}
        sessions: dict[int, _Session] = {}
        for pi, sps in day.sessions.items():
            prov = s.providers[pi]
            pr = _Provider(
                pi,
                frozenset(plan.types.index(t) for t in prov.appointment_types),
                Pool(eng, prov.rooms_at_once),
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
        # Per walk-in type: the providers who see it, and their sessions (filled on first use).
        self._eligible: dict[int, tuple[list[_Provider], list[_Session]]] = {}
        # Scheduling order fixes the order of simultaneous events: booked patients, walk-ins, providers.
        self._booked(draws)
        for w in walk_ins:
            eng.schedule(w.arrival, self._walk_in, w)
        for pr in self.providers.values():
            if pr.sessions:
                self._start_session(pr)

    # -- patients ------------------------------------------------------------------------------
    def _new_patient(self, appt, walk_in, type_ix, provider) -> _Patient:
        p = _Patient()
        p.row = R.new_row(self.day.index, self.patient_no, appt, walk_in, type_ix, provider)
        self.patient_no += 1
        self.rows.append(p.row)
        p.type = type_ix
        p.in_person, p.needs_ma, p.procedure, p.wants_checkout = self.type_flags[type_ix]
        p.registered = ()
        p.session = None
        p.held = None
        return p

    def _booked(self, d: Draws) -> None:
        plan = self.plan
        eng = self.engine
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
            eng.schedule(arrival[i], self._booked_arrives, p)

    def _booked_arrives(self, p: _Patient) -> None:
        now = self.engine.now
        p.row[R.ARRIVAL] = now
        if self.cutoff is not None and now - p.appt > self.cutoff:
            p.row[R.OUTCOME] = R.TURNED_AWAY
            p.session.pending -= 1
            self._wake(p.provider)
            return
        self._check_in(p)

    def _walk_in(self, w: WalkIn) -> None:
        now = self.engine.now
        p = self._new_patient(now, True, w.type, -1)
        p.row[R.ARRIVAL] = now
        p.check_in = w.check_in
        p.checkout = w.checkout
        p.turnover = w.turnover
        p.rooming = w.rooming
        p.visits = w.visit
        p.visit = None
        hold = self._take_hold(w.type, now) if self.holds else None
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
                self.engine.schedule(hold.start - now, self._walk_in_returns, p)
                return
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
        self._check_in(p)

    def _staff(self, steps) -> Pool:
        """A pool of clerks or MAs that follows the day's shifts: the count at opening, then a
        resize at each change (one leaving mid-task finishes it first; ``Pool.resize``)."""
        pool = Pool(self.engine, steps[0][2])
        for start, _end, n in steps[1:]:
            self.engine.schedule(float(start), pool.resize, n)
        return pool

    def _walk_in_returns(self, p: _Patient) -> None:
        p.row[R.ARRIVAL] = self.engine.now
        self._check_in(p)

    def _take_hold(self, type_ix: int, now: float):
        for entry in self.holds:
            h, taken = entry
            if taken or h.end <= now:
                continue
            if type_ix in self.providers[h.provider].sees:
                entry[1] = True
                return h
        return None

    def _eligible_for(self, type_ix: int) -> tuple[list[_Provider], list[_Session]]:
        e = self._eligible.get(type_ix)
        if e is None:
            prs = [pr for pr in self.providers.values() if type_ix in pr.sees]
            e = self._eligible[type_ix] = (prs, [ss for pr in prs for ss in pr.sessions])
        return e

    def _register(self, type_ix: int, now: float) -> tuple[_Session, ...]:
        """Sessions whose provider will see a pooled walk-in: those on now, else the next to start."""
        sessions = self._eligible_for(type_ix)[1]
        current = [ss for ss in sessions if ss.start <= now < ss.end]
        if current:
            return tuple(current)
        later = [ss for ss in sessions if ss.start > now]
        if not later:
            return ()
        first = min([ss.start for ss in later])
        return tuple([ss for ss in later if ss.start == first])

    # The path every patient who shows takes up to the provider's queue: desk, room slot, room,
    # rooming. A free resource is taken at once and a zero duration costs no event: the patient
    # simply moves on at the same instant. The provider takes it from there (``_after_visit``).
    def _check_in(self, p: _Patient) -> None:
        if not p.in_person:
            self._ready(p)
            return
        desk = self.desk
        if desk is None:
            self._to_room(p)
        elif desk.take() is BUSY:
            desk.wait(self.engine.now, self._check_in_starts, p)
        else:
            self._check_in_starts(p)

    def _check_in_starts(self, p: _Patient) -> None:
        p.row[R.CHECK_IN_START] = self.engine.now
        if p.check_in > 0:
            self.engine.schedule(p.check_in, self._check_in_ends, p)
        else:
            self._check_in_ends(p)

    def _check_in_ends(self, p: _Patient) -> None:
        p.row[R.CHECK_IN_END] = self.engine.now
        self.desk.release()
        self._to_room(p)

    def _to_room(self, p: _Patient) -> None:
        token = p.provider.token if p.provider is not None else None
        if token is not None and token.take() is BUSY:
            token.wait(p.key, self._room, p)
        else:
            self._room(p)

    def _room(self, p: _Patient) -> None:
        rooms = self.proc if p.procedure else self.exam
        room = rooms.take()
        if room is BUSY:
            rooms.wait(p.key, self._roomed, p)
        else:
            p.unit = room
            self._roomed(p)

    def _roomed(self, p: _Patient) -> None:
        row = p.row
        row[R.ROOM] = p.unit
        row[R.ROOMED] = self.engine.now
        p.held = (
            p.provider.token if p.provider is not None else None,
            self.proc if p.procedure else self.exam,
            p.unit,
        )
        if not p.needs_ma:
            self._ready(p)
        elif self.ma.take() is BUSY:
            self.ma.wait(p.key, self._rooming_starts, p)
        else:
            self._rooming_starts(p)

    def _rooming_starts(self, p: _Patient) -> None:
        p.row[R.ROOMING_START] = self.engine.now
        if p.rooming > 0:
            self.engine.schedule(p.rooming, self._rooming_ends, p)
        else:
            self._rooming_ends(p)

    def _rooming_ends(self, p: _Patient) -> None:
        p.row[R.ROOMING_END] = self.engine.now
        self.ma.release()
        self._ready(p)

    def _ready(self, p: _Patient) -> None:
        p.row[R.READY] = self.engine.now
        self.seq += 1
        entry = (p.key, self.seq, p)
        if p.provider is not None:
            heapq.heappush(p.provider.heap, entry)
            self._wake(p.provider)
        else:
            heapq.heappush(self.pool_heaps.setdefault(p.type, []), entry)
            for pr in self._eligible_for(p.type)[0]:
                if pr.on_duty and pr.idle:
                    self._wake(pr)

    def _after_visit(self, p: _Patient) -> None:
        """Turnover, then checkout and exit, started by the provider at the visit end."""
        eng = self.engine
        row = p.row
        if p.held is None:
            row[R.EXIT] = eng.now
            return
        if p.turnover > 0:
            eng.schedule(p.turnover, self._free_room, p)
        else:
            self._free_room(p)
        desk = self.desk
        if not p.wants_checkout or desk is None:
            row[R.EXIT] = eng.now
        elif desk.take() is BUSY:
            desk.wait(eng.now, self._check_out, p)
        else:
            self._check_out(p)

    def _check_out(self, p: _Patient) -> None:
        p.row[R.CHECKOUT_START] = self.engine.now
        if p.checkout > 0:
            self.engine.schedule(p.checkout, self._leave, p)
        else:
            self._leave(p)

    def _leave(self, p: _Patient) -> None:
        now = self.engine.now
        p.row[R.CHECKOUT_END] = now
        p.row[R.EXIT] = now
        self.desk.release()

    def _free_room(self, p: _Patient) -> None:
        p.row[R.ROOM_FREE] = self.engine.now
        token, rooms, room = p.held
        rooms.release(room)
        if token is not None:
            token.release()

    # -- providers -----------------------------------------------------------------------------
    # A provider works its sessions in order: it sees the ready patient with the earliest
    # appointment time, takes each break when free (a visit that overruns shortens the break), and
    # stays past the session end while any patient of the session is still to come.
    def _wake(self, pr: _Provider) -> None:
        """Wake an idle provider to look at its queue again (patients ready, pending count changed)."""
        if pr.idle:
            pr.idle = False
            self.engine.schedule(0.0, self._work, pr)

    def _start_session(self, pr: _Provider) -> None:
        ss = pr.sessions[pr.si]
        now = self.engine.now
        if now < ss.start:
            self.engine.schedule(ss.start - now, self._open_session, pr)
        else:
            self._open_session(pr)

    def _open_session(self, pr: _Provider) -> None:
        pr.on_duty = True
        pr.bi = 0
        ss = pr.sessions[pr.si]
        now = self.engine.now
        if now < ss.end:
            # Look again at the session end: an idle provider may leave then.
            self.engine.schedule(ss.end - now, self._session_end_check, (pr, pr.si))
        self._work(pr)

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

    def _work(self, pr: _Provider) -> None:
        """The provider is free now: take a break, see the next patient, wait, or end the session."""
        eng = self.engine
        now = eng.now
        ss = pr.sessions[pr.si]
        breaks = ss.breaks
        bi = pr.bi
        if now < ss.end and bi < len(breaks):
            while bi < len(breaks) and breaks[bi][1] <= now:
                bi += 1
            if bi < len(breaks) and breaks[bi][0] <= now:
                pr.bi = bi + 1
                eng.schedule(breaks[bi][1] - now, self._work, pr)
                return
            pr.bi = bi
        p = self._next_patient(pr)
        if p is not None:
            if p.session is not None:
                p.session.pending -= 1
            else:
                for other in p.registered:
                    other.pending -= 1
                    if other.provider is not pr and other.provider.idle:
                        self._wake(other.provider)
                p.row[R.PROVIDER] = pr.index
                p.visit = p.visits[pr.index]
            p.row[R.SESSION] = ss.sid
            p.row[R.PROVIDER_START] = now
            pr.current = p
            eng.schedule(p.visit, self._visit_ends, pr)
            return
        if now >= ss.end and ss.pending <= 0:
            pr.on_duty = False
            pr.si += 1
            if pr.si < len(pr.sessions):
                self._start_session(pr)
            return
        pr.idle = True

    def _session_end_check(self, arg) -> None:
        pr, si = arg
        if pr.si == si and pr.idle:
            self._wake(pr)

    def _visit_ends(self, pr: _Provider) -> None:
        p = pr.current
        pr.current = None
        p.row[R.PROVIDER_END] = self.engine.now
        self._after_visit(p)
        self._work(pr)

    # -- run -----------------------------------------------------------------------------------
    def run(self) -> list[list]:
        self.engine.run(self.day.hard_stop)
        for row in self.rows:
            if row[R.OUTCOME] != row[R.OUTCOME]:  # NaN: showed up
                row[R.OUTCOME] = R.SEEN if row[R.PROVIDER_END] == row[R.PROVIDER_END] else R.UNSEEN
        return self.rows


def simulate_day(
    plan: Plan,
    day: DayPlan,
    draws: Draws,
    walk_ins: list[WalkIn],
    first_patient: int,
    engine: str = "lean",
) -> np.ndarray:
    """Records (rows x ``records.N_FIELDS``) of one day."""
    rows = ClinicDay(plan, day, draws, walk_ins, first_patient, engine).run()
    return np.array(rows, dtype=float).reshape(-1, R.N_FIELDS)
