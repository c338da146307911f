"""The board pack's sections, one module each, built from the engine's figures (``content.pack_content`` calls them)."""
