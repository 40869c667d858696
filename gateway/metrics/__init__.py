"""Health metrics: readings -> the embedded store on the box (and external sinks)."""
