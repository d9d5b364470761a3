"""The staff UI under config/: HTMX pages over session auth."""
