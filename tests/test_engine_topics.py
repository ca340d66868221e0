"""Engine topics: what one model publishes reaches every subscriber at the publishing time."""

from __future__ import annotations

import simpy

from smsim.core.engine import SimContext
from smsim.core.meter import Meter


def test_every_subscriber_gets_every_item_when_it_is_published():
    ctx = SimContext(env=simpy.Environment(), scenario=None, seed=0, meter=Meter())
    got: dict[str, list] = {"a": [], "b": []}

    def follow(name, store):
        while True:
            item = yield store.get()
            got[name].append((ctx.env.now, item))

    for name in got:
        ctx.env.process(follow(name, ctx.subscribe("pipeline:x")))
    ctx.subscribe("pipeline:other")

    def source():
        for t in (5.0, 7.5):
            yield ctx.env.timeout(t - ctx.env.now)
            ctx.publish("pipeline:x", t)
        ctx.publish("nobody:listens", 1)

    ctx.env.process(source())
    ctx.env.run(until=10)
    assert got["a"] == got["b"] == [(5.0, 5.0), (7.5, 7.5)]
