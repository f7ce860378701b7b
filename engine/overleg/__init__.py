"""Casusoverleg: overleg types, meetings with an agenda of cases, per-case invitations (need-to-know), decisions that
complete the waiting process step, and action points with an owner and a deadline.

`models` holds the tables; `types` the configurable overleg types (seeded with the ZVH's own and the partners'
consultations); `schedule` the meeting moments; `meetings` planning, the agenda and invitations; `outcomes` what is
recorded during and after a meeting. Pages, the API, the CLI and jobs all call these functions.
"""
