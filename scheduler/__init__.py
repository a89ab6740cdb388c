"""Proactive work: the billing sweeps, the outbox and its delivery worker, and the ticker.

`jobs.tick(now)` is the whole of it: sweeps (one replica at a time) then delivery (any number
of workers). APScheduler only calls `tick` on an interval; it keeps no state of its own.
"""
