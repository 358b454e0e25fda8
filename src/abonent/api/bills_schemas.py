"""Input and output of the bills endpoints: the month in the path as ГГГГ-ММ, money as a
decimal string, dates ISO 8601."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Path, Schema
from pydantic import Field

from abonent.api.accounts_schemas import DecimalText
from abonent.api.payments_schemas import PeriodIn

# the month of the bill; anything else is 422 validation_failed, field «period», saying ГГГГ-ММ
BillPeriod = Annotated[PeriodIn, Path(description="Расчётный период квитанции, ГГГГ-ММ", examples=["2026-10"])]

# The PDF itself: the 200 of GET /bills/{period}, described for the OpenAPI document.
PDF_RESPONSE: dict[str, Any] = {
    "responses": {
        200: {
            "description": "Квитанция в PDF (вложение с именем файла в Content-Disposition)",
            "content": {
                "application/pdf": {
                    "schema": {"type": "string", "format": "binary", "contentMediaType": "application/pdf"}
                }
            },
        }
    }
}


class BillInfoOut(Schema):
    period: str = Field(pattern=r"^\d{4}-\d{2}$", description="Расчётный период, ГГГГ-ММ")
    amount_due: DecimalText = Field(description="К оплате, ₽, два знака: «429.96»; «0.00» — ничего не должно")
    due_on: dt.date = Field(description="Оплатить до (включительно)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 файла PDF, шестнадцатеричный")
    size: int = Field(description="Размер файла PDF, байт")
    rendered_at: dt.datetime = Field(description="Когда квитанция сформирована (файл тот же, пока она не изменилась)")


class BillSentOut(Schema):
    sent_to: str = Field(description="Куда отправлена квитанция: e-mail профиля, скрытый частично («iv***@mail.ru»)")
