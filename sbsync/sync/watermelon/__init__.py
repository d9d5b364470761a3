"""WatermelonDB's sync protocol on top of the sbsync engine (docs/watermelon.md)."""
