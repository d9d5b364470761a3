from __future__ import annotations

import orjson
import pytest
from django.db import models

from sbsync.sync.jsondata import dumps


@pytest.mark.parametrize("stored", [b"\x00\xffbinary", memoryview(b"\x00\xffbinary")])
def test_binary_values_are_written_as_the_base64_push_reads_back(stored):
    written = orjson.loads(dumps({"blob": stored}))["blob"]

    assert written == "AP9iaW5hcnk="
    assert bytes(models.BinaryField().to_python(written)) == b"\x00\xffbinary"
