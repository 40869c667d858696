"""The Modbus side of the simulators: alarm panels on pymodbus's simulator datastore."""
