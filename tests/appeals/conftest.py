"""The people, the second supplier and the file storage the appeals tests share."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from abonent.core.models import Supplier
from abonent.core.services import supplier_create
from abonent.identity.models import User
from tests.appeals.factories import applicant_make, operator_make
from tests.web.suppliers import SUPPLIER_KALININGRAD


@pytest.fixture
def applicant(db: None) -> User:
    return applicant_make()


@pytest.fixture
def operator(db: None) -> User:
    return operator_make()


@pytest.fixture
def supplier_kld(db: None) -> Supplier:
    return supplier_create(**SUPPLIER_KALININGRAD)


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    """The default storage in a directory of the test's own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root
