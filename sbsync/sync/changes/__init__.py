"""The change index: positions of every tracked row's changes (index.py), kept by signals (tracking.py)."""
