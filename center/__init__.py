"""lvgw-center: the service center's side of the MQTT contract.

It takes the ticket events of many sites from a shared MQTT subscription, keeps them in
a ledger (each event once, applied to its ticket in ``seq`` order) and delivers them to
the tools the service center works in (adapters). docs/center.md says what it does.
It builds on the gateway's lower layers (configuration helpers, the SQLite helper); the
gateway never imports it.
"""
