"""Adapters: the concrete parts behind the ports. Only bootstrap.py and entrypoints/ choose among them."""
