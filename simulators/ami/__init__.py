"""The Asterisk Manager Interface of the simulated PBXs (docs/simulators.md, AMI)."""
