"""Helpers of bench/agent_scale.py: the fleets it polls."""
