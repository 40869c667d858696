"""SIA DC-09 (Internet Protocol Event Reporting): frames, message data, a receiver.

Knows nothing of devices or profiles: ``Dc09Receiver`` answers panels for the
accounts it is given and hands over the messages it acknowledged.
"""
