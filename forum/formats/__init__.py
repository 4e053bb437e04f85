"""Date formats of our own, per language (FORMAT_MODULE_PATH); Django's fill in the rest."""
