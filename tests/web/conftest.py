from __future__ import annotations

import pytest

from abonent.core.models import Supplier
from abonent.core.services import supplier_create
from tests.web.suppliers import SUPPLIER_KALININGRAD


@pytest.fixture
def supplier_kaliningrad(db: None) -> Supplier:
    return supplier_create(**SUPPLIER_KALININGRAD)
