"""Tests of the protocol drivers."""
