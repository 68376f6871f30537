"""Loopback fakes of the providers: real HTTP servers on 127.0.0.1 that speak each provider's protocol.

    server.py   ServerThread (uvicorn in a thread), FakeProvider (recording + fault layer)
    faults.py   Fault kinds and the per-endpoint fault queue
    kling.py    the official Kling legacy API (JWT) -> FakeKling
    clock.py    FakeClock shared by run_job and a fake's scenario timeline
    fixtures.py pytest fixtures (use `pytest_plugins = ["tests.fakes.fixtures"]` in a test module)

A new provider is one module: subclass FakeProvider, list its routes, name its points and give
its error envelope; faults, recording and the server come for free.
"""

from tests.fakes.clock import FakeClock
from tests.fakes.faults import Fault
from tests.fakes.server import FakeProvider, Recorded, ServerThread

__all__ = ["FakeClock", "FakeProvider", "Fault", "Recorded", "ServerThread"]
