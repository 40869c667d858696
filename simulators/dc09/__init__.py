"""SIA DC-09 as an alarm panel speaks it: the panel's own implementation, written
from the standard, that reports to a receiver (the gateway's, or any other)."""
