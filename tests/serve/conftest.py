"""The server's forward-pass workers each call ``torch.set_num_threads`` (their share of the cores), which also
becomes what threads started later begin with: every test here leaves the count as it found it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
