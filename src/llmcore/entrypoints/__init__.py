"""Entrypoints: thin shells (CLI, proxy) over the library."""
