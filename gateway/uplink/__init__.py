"""Delivery to the service center over MQTT."""

from gateway.uplink.mqtt import InboundHandler, MqttUplink, UplinkStats, topic_prefix

__all__ = ["InboundHandler", "MqttUplink", "UplinkStats", "topic_prefix"]
