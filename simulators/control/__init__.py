"""The control endpoint of a running fleet (HTTP JSON on 127.0.0.1) and its client."""
