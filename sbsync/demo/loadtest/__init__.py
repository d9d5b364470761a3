"""Load testing of a running sbsync deployment (the demo's data and roles): simulated clients
(``client.py``), the Locust users that drive them (``locustfile.py``) and the check that every client
converged (``verify.py``, ``manage.py loadtest_verify``). README, "Production"."""
