"""Delivery to the service center over MQTT."""

from gateway.backoff import Backoff
from gateway.uplink.mqtt import InboundHandler, MqttUplink, UplinkStats, topic_prefix

__all__ = ["Backoff", "InboundHandler", "MqttUplink", "UplinkStats", "topic_prefix"]
