"""The sync benchmark (``manage.py sync_benchmark``) and its bare baseline.

``workload.py`` is the client side (records, phases, count check), ``servers.py`` starts gunicorn and
samples its processes, ``compare.py`` alternates the bare server and sbsync and takes medians. ``bare/``
is a minimal sync server installed only by ``settings.py`` (the benchmark's servers), never by a project
that installs sbsync.
"""
