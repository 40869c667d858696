"""Helpers of bench/poll_scale.py: the simulated fleet and the reference pollers."""
