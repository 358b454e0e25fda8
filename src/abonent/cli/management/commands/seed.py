from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone
from tqdm import tqdm

from abonent.cli.demo.seeding import SeedReport, SupplierReport, seed_run
from abonent.cli.demo.writer import SeedError
from abonent.core.errors import DomainError
from abonent.core.models import LinkProof

MAX_ACCOUNTS = 10_000_000
MAX_BATCH = 20_000

_CREATED = (
    ("supplier", ("поставщик", "поставщика", "поставщиков")),
    ("staff", ("сотрудник", "сотрудника", "сотрудников")),
    ("subscriber", ("абонент", "абонента", "абонентов")),
    ("account", ("лицевой счёт", "лицевых счёта", "лицевых счетов")),
    ("equipment", ("единица газового оборудования", "единицы газового оборудования", "единиц газового оборудования")),
    ("contract", ("договор", "договора", "договоров")),
    ("meter", ("прибор учёта", "прибора учёта", "приборов учёта")),
    ("reading", ("показание", "показания", "показаний")),
    ("tariff", ("цена газа", "цены газа", "цен газа")),
    ("norm", ("норматив", "норматива", "нормативов")),
    ("benefit", ("льгота", "льготы", "льгот")),
    ("charge", ("проводка начислений", "проводки начислений", "проводок начислений")),
    ("penalty", ("проводка пеней", "проводки пеней", "проводок пеней")),
    ("payment", ("оплата", "оплаты", "оплат")),
    ("appeal", ("обращение или заявка", "обращения или заявки", "обращений или заявок")),
    ("answer_template", ("шаблон ответа", "шаблона ответа", "шаблонов ответа")),
    ("notification", ("уведомление", "уведомления", "уведомлений")),
    ("push_device", ("устройство для push", "устройства для push", "устройств для push")),
)
_ZONES = {"Europe/Moscow": "московское время", "Europe/Kaliningrad": "калининградское время"}
_PROOFS = {
    LinkProof.PIN.value: "PIN-коду",
    LinkProof.LAST_CHARGE.value: "сумме последнего начисления",
    LinkProof.METER_VALUE.value: "показанию счётчика",
}


def plural(n: int, forms: tuple[str, str, str]) -> str:
    """«1 счётчик», «2 счётчика», «5 счётчиков»."""
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def number(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}".replace(".", ",") + "\u00a0с"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}\u00a0мин {rest}\u00a0с"


class _Stream:
    """Lets tqdm draw on the command's stderr without the newline OutputWrapper adds."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self._wrapper = wrapper

    @property
    def encoding(self) -> str:  # tqdm draws with Unicode blocks only where the stream says it can
        return str(getattr(self._wrapper, "encoding", None) or "utf-8")

    def write(self, text: str) -> None:
        self._wrapper.write(text, ending="")

    def flush(self) -> None:
        self._wrapper.flush()


def _whole(value: Any, *, option: str, low: int, high: int) -> int:
    text = str(value).strip()
    try:
        result = int(text)
    except ValueError:
        raise CommandError(
            f"{option}: «{text}» — не целое число; укажите число от {number(low)} до {number(high)}"
        ) from None
    if not low <= result <= high:
        raise CommandError(
            f"{option}: {text} вне допустимых пределов; укажите число от {number(low)} до {number(high)}"
        )
    return result


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--today: «{text}» — не дата; пишите ГГГГ-ММ-ДД, например 2026-11-22") from None
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise CommandError(f"--today: {text} — укажите дату между 2000-01-01 и 2100-12-31")
    return day


class Command(BaseCommand):
    help = (
        "Загрузить демо-данные: два поставщика (Москва и Калининград), сотрудники бэк-офиса, лицевые счета "
        "с оборудованием, договорами, счётчиками и показаниями за два года, начисления, пени и оплаты за эти два "
        "года (расчёт за каждый месяц и оплаты между расчётами), обращения и заявка на подключение демо-абонента, "
        "его уведомления и телефон для push-уведомлений, объявление оператора. "
        "Повторный запуск ничего не дублирует."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", default="300", help="сколько лицевых счетов (по умолчанию 300)")
        parser.add_argument("--seed", default="2026", help="зерно случайных данных: одно зерно — одни данные (2026)")
        parser.add_argument(
            "--today", default=None, help="«сегодня» в формате ГГГГ-ММ-ДД: от него отсчитывается история (сегодня)"
        )
        parser.add_argument(
            "--batch-size", default="5000", help="сколько лицевых счетов записывать за одну транзакцию (5000)"
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="разрешить запуск на рабочей установке (ABONENT_ENV=production)",
        )
        parser.add_argument(
            "--no-billing",
            action="store_true",
            help="без истории начислений и оплат: только счета, оборудование, счётчики и показания",
        )
        parser.add_argument("--no-progress", action="store_true", help="не показывать индикатор выполнения")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = _whole(options["accounts"], option="--accounts", low=1, high=MAX_ACCOUNTS)
        seed = _whole(options["seed"], option="--seed", low=0, high=2**63 - 1)
        batch_size = _whole(options["batch_size"], option="--batch-size", low=1, high=MAX_BATCH)
        today = _day(options["today"]) if options["today"] is not None else timezone.localdate()
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "Это рабочая установка (ABONENT_ENV=production): демо-данные в ней не нужны. "
                "Если вы уверены, запустите с --allow-production"
            )

        bar: tqdm[Any] | None = None
        show = not options["no_progress"] and options["verbosity"] > 0

        def starter(desc: str) -> Any:
            def start(total: int) -> None:
                nonlocal bar
                if bar is not None:
                    bar.close()
                    bar = None
                if show and total:
                    bar = tqdm(
                        total=total,
                        desc=desc,
                        bar_format="{desc}: {percentage:3.0f}% |{bar}| {n_fmt} из {total_fmt} [прошло {elapsed}, ещё {remaining}]",
                        file=_Stream(self.stderr),
                        mininterval=0.5,
                        leave=False,
                    )

            return start

        def advance(done: int) -> None:
            if bar is not None:
                bar.update(done)

        try:
            report = seed_run(
                accounts=accounts,
                seed=seed,
                today=today,
                batch_size=batch_size,
                billing=not options["no_billing"],
                on_start=starter("Лицевые счета"),
                on_progress=advance,
                on_history_start=starter("Начисления и оплаты (месяц × поставщик)"),
                on_history_progress=advance,
            )
        except (SeedError, DomainError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            if bar is not None:
                bar.close()
        self._print(report)

    def _print(self, report: SeedReport) -> None:
        out = self.stdout
        if report.nothing_new:
            out.write(f"Демо-данные уже на месте, ничего не добавлено (проверка заняла {duration(report.seconds)}).")
        else:
            made = [
                f"{number(report.created[key])} {plural(report.created[key], forms)}"
                for key, forms in _CREATED
                if report.created[key]
            ]
            out.write(self.style.SUCCESS(f"Демо-данные загружены за {duration(report.seconds)}."))
            out.write("Создано: " + ", ".join(made) + ".")
        out.write("")
        out.write("Вход в бэк-офис (/backoffice/):")
        width = max(len(m.role) for m in report.staff)
        for member in report.staff:
            out.write(f"  {member.role + ':':<{width + 1}}  логин {member.username:<9} пароль {member.password}")
        out.write("")
        subscriber = report.subscriber
        out.write("Вход в личный кабинет (/login/) демо-абонента:")
        out.write(f"  телефон {subscriber.phone} или e-mail {subscriber.email}, пароль {subscriber.password}")
        if subscriber.linked:
            out.write(f"  к нему уже привязан счёт № {subscriber.linked}; остальные счета ниже можно привязать")
        if report.appeals.cases:
            out.write("  в разделе «Обращения» (оператор отвечает на них в бэк-офисе):")
            for case in report.appeals.cases:
                out.write(f"    {case}")
        if report.messages:
            out.write(
                f"  в «Уведомлениях» {number(report.messages)} "
                f"{plural(report.messages, ('сообщение', 'сообщения', 'сообщений'))}; push-уведомления на его "
                f"демо-телефон — в исходящих (/demo/outbox/)"
            )
        out.write("")
        out.write("Лицевые счета для привязки в личном кабинете — номер и PIN-код с квитанции:")
        for supplier in report.suppliers:
            out.write("")
            out.write(self._supplier_line(supplier))
            if not supplier.accounts:
                out.write("  (лицевых счетов этого поставщика пока нет)")
            for account in supplier.accounts:
                meters = (
                    f"{account.meters} {plural(account.meters, ('счётчик', 'счётчика', 'счётчиков'))}"
                    if account.meters
                    else "без счётчика, начисления по нормативу"
                )
                out.write(f"  № {account.number}   PIN {account.pin}   {account.holder} — {meters}")
                out.write(f"      {account.address}")

    @staticmethod
    def _supplier_line(supplier: SupplierReport) -> str:
        zone = zoneinfo.ZoneInfo(supplier.time_zone)
        offset = dt.datetime.now(zone).utcoffset() or dt.timedelta(0)
        hours = int(offset.total_seconds() // 3600)
        zone_text = f"{_ZONES.get(supplier.time_zone, supplier.time_zone)}, UTC{hours:+d}"
        proofs = " или ".join(_PROOFS.get(p, p) for p in supplier.link_proofs)
        first, last = supplier.window
        return (
            f"{supplier.short_name} ({' и '.join(supplier.regions)}; {zone_text}). "
            f"Показания — с {first} по {last} число, привязка счёта по {proofs}:"
        )
