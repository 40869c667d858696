"""`lvgw demo`: a simulated site, a local broker, the gateway and a live ticket view."""

from gateway.demo.run import run_demo

__all__ = ["run_demo"]
