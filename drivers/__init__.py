"""Protocol drivers: SNMP and Modbus. They know nothing of devices, rules or MQTT."""
