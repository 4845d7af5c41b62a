"""The planner: CP-SAT models for next week's schedule.

``week`` cuts the week into provider-sessions, blocks and segments; ``template`` decides slot
counts; ``timing`` (with ``saa``) decides start times under uncertainty; ``rooms`` assigns exam
rooms; ``booking`` books pending requests (``requests`` reads them); ``diagnose`` explains
infeasible weeks; ``baselines`` re-time a plan by practice rules; ``plan.plan_week`` runs it all.
Every CP-SAT call goes through ``cpsat``.
"""
