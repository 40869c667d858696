"""Delivery to the service center over MQTT."""

from gateway.uplink.backoff import Backoff
from gateway.uplink.mqtt import MqttUplink, topic_prefix
from gateway.uplink.queue import DeliveryQueue, MemoryQueue, OutboundMessage

__all__ = [
    "Backoff",
    "DeliveryQueue",
    "MemoryQueue",
    "MqttUplink",
    "OutboundMessage",
    "topic_prefix",
]
