"""``python -m sbsync.client``: see ``sbsync/client/cli.py``."""

from __future__ import annotations

import sys

from sbsync.client.cli import main

sys.exit(main())
