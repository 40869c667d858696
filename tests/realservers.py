"""Real third-party servers for tests (the same launchers `lvgw demo` uses)."""

from gateway.demo.processes import (
    Mosquitto,
    Server,
    Snmpd,
    free_port,
    running,
    snmp_answers,
    tcp_open,
    wait_until,
    which,
)

__all__ = [
    "Mosquitto",
    "Server",
    "Snmpd",
    "free_port",
    "running",
    "snmp_answers",
    "tcp_open",
    "wait_until",
    "which",
]
