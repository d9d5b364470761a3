"""The bare baseline under ``bench-bare/``, the project's own URLs everywhere else."""

from __future__ import annotations

from django.conf import settings
from django.urls import include, path

from sbsync.benchmark.bare import PREFIX

urlpatterns = [
    path(PREFIX, include("sbsync.benchmark.bare.urls")),
    path("", include(settings.BENCHMARK_BASE_URLCONF)),
]
