"""pytest plugin: synthetic databases as fixtures (registered through the ``pytest11`` entry point)."""
