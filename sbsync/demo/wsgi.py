from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sbsync.demo.settings")

application = get_wsgi_application()
# What is loaded by now (Django, the apps, their models) lives as long as the worker: frozen, it is left
# out of the garbage collector's full passes, which otherwise paused a worker for about 60 ms every 15
# or so sync requests.
gc.freeze()
