"""What the HTTP device APIs share: the reader, the device's session, the event
streams' plumbing (a push source that asks for polls)."""
