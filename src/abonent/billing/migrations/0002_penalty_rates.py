"""The Bank of Russia key rate since 2020, the caps the government put on the rate for
penalties, and the moratorium of 2020. Operators keep the tables current in the back office
(a new key rate is added on the day the Bank of Russia announces it)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

KEY_RATES = (
    ("2020-02-10", "6.00"), ("2020-04-27", "5.50"), ("2020-06-22", "4.50"), ("2020-07-27", "4.25"),
    ("2021-03-22", "4.50"), ("2021-04-26", "5.00"), ("2021-06-15", "5.50"), ("2021-07-26", "6.50"),
    ("2021-09-13", "6.75"), ("2021-10-25", "7.50"), ("2021-12-20", "8.50"), ("2022-02-14", "9.50"),
    ("2022-02-28", "20.00"), ("2022-04-11", "17.00"), ("2022-05-04", "14.00"), ("2022-05-27", "11.00"),
    ("2022-06-14", "9.50"), ("2022-07-25", "8.00"), ("2022-09-19", "7.50"), ("2023-07-24", "8.50"),
    ("2023-08-15", "12.00"), ("2023-09-18", "13.00"), ("2023-10-30", "15.00"), ("2023-12-18", "16.00"),
    ("2024-07-29", "18.00"), ("2024-09-16", "19.00"), ("2024-10-28", "21.00"), ("2025-06-09", "20.00"),
    ("2025-07-28", "18.00"), ("2025-09-15", "17.00"), ("2025-10-27", "16.50"),
)  # fmt: skip
CAPS = (
    ("2022-02-28", "2023-12-31", "9.50", "ПП РФ от 26.03.2022 № 474 (в редакции с продлением до 31.12.2023)"),
    ("2024-01-01", "2024-12-31", "9.50", "ПП РФ от 29.12.2023 № 2382"),
    ("2025-01-01", "2026-12-31", "9.50", "ПП РФ от 18.03.2025 № 329"),
)
MORATORIA = (("2020-04-06", "2020-12-31", "ПП РФ от 02.04.2020 № 424"),)


def forwards(apps, schema_editor):
    KeyRate = apps.get_model("billing", "KeyRate")
    Cap = apps.get_model("billing", "PenaltyRateCap")
    Moratorium = apps.get_model("billing", "PenaltyMoratorium")
    for day, rate in KEY_RATES:
        KeyRate.objects.get_or_create(effective_from=dt.date.fromisoformat(day), defaults={"rate": Decimal(rate)})
    for start, end, rate, basis in CAPS:
        Cap.objects.get_or_create(
            valid_from=dt.date.fromisoformat(start),
            defaults={"valid_to": dt.date.fromisoformat(end), "rate": Decimal(rate), "basis": basis},
        )
    for start, end, basis in MORATORIA:
        Moratorium.objects.get_or_create(
            valid_from=dt.date.fromisoformat(start), defaults={"valid_to": dt.date.fromisoformat(end), "basis": basis}
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
