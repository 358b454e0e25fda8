"""Dated rows refuse days another row of the same kind already covers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from abonent.billing.enums import Direction
from abonent.billing.models import PenaltyMoratorium, PenaltyRateCap, Tariff
from abonent.core.models import Supplier

pytestmark = pytest.mark.django_db


def test_a_cap_over_days_another_cap_covers_is_refused() -> None:
    # the data migration's cap of ПП №329 covers 2025–2026
    cap = PenaltyRateCap(valid_from=dt.date(2026, 6, 1), valid_to=None, rate=Decimal("8.00"), basis="проверка")
    with pytest.raises(ValidationError) as error:
        cap.full_clean()
    assert error.value.message_dict == {
        "valid_from": ["На эти дни ограничение ставки уже есть: закройте его днём раньше"]
    }

    PenaltyRateCap(valid_from=dt.date(2027, 1, 1), valid_to=None, rate=Decimal("8.00"), basis="проверка").full_clean()


def test_a_moratorium_over_days_of_another_is_refused() -> None:
    moratorium = PenaltyMoratorium(valid_from=dt.date(2020, 12, 1), valid_to=dt.date(2021, 1, 31), basis="проверка")
    with pytest.raises(ValidationError) as error:
        moratorium.full_clean()
    assert error.value.message_dict == {"valid_from": ["Эти дни уже входят в другой мораторий"]}


def test_a_price_over_days_the_direction_has_a_price_for_is_refused(supplier: Supplier) -> None:
    Tariff.objects.create(
        supplier=supplier, direction=Direction.COOKING, price=Decimal("13.52"), valid_from=dt.date(2026, 1, 1)
    )
    tariff = Tariff(
        supplier=supplier, direction=Direction.COOKING, price=Decimal("14.00"), valid_from=dt.date(2026, 7, 1)
    )
    with pytest.raises(ValidationError) as error:
        tariff.full_clean()
    assert error.value.message_dict == {
        "valid_from": ["На эти дни у направления уже есть цена: закройте её днём раньше"]
    }
