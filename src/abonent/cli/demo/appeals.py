"""The demo subscriber's appeals, made through the appeals services as a person and an
operator would make them: one answered (the answer waits to be rated), one where the operator
asked a question, one new, and an application for connection of a house to the gas network
at the stage «договор направлен»; and a few ready answers for the operators.

Every moment is a fixed time of a day counted back from the seed's «today», the texts are
fixed and the attached files are drawn here (a small JPEG, one-page PDFs with a stable id), so
the same day gives the same cases. Nothing is made twice: the cases are made only when the
demo subscriber has none, the answers only those whose title is not there yet.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass

import pikepdf
from PIL import Image, ImageDraw

from abonent.appeals import services as appeals
from abonent.appeals.enums import AppealKind, Category, ConnectionProgram, DocumentKind, NotifyChannel, Status, Usage
from abonent.appeals.models import AnswerTemplate, Appeal
from abonent.core.models import Supplier
from abonent.customers.models import PersonalAccount
from abonent.identity.enums import AuthChannel
from abonent.identity.models import User

#: Ready answers operators insert and edit (common to every supplier): (topic, title, text).
ANSWER_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        Category.CHARGE,
        "Начисление проверено, перерасчёт сделан",
        "Здравствуйте! Мы проверили начисление по вашему лицевому счёту. Объём был рассчитан по среднему "
        "потреблению, так как показания не поступили в срок. По переданным вами показаниям сделан "
        "перерасчёт, он отразится в квитанции за следующий месяц.",
    ),
    (
        Category.READINGS,
        "Нужно фото счётчика",
        "Здравствуйте! Чтобы проверить показания, пришлите, пожалуйста, фотографию счётчика, на которой "
        "видны заводской номер и все цифры показаний.",
    ),
    (
        Category.PAYMENT,
        "Платёж зачислен",
        "Здравствуйте! Ваш платёж поступил от банка и зачислен на лицевой счёт. Платежи через банки "
        "поступают в течение 3–5 рабочих дней.",
    ),
    (
        Category.METER,
        "Замена счётчика",
        "Здравствуйте! Замену счётчика выполняет специализированная организация по договору с вами. После "
        "замены передайте нам акт ввода счётчика в эксплуатацию и его паспорт: мы внесём новый счётчик "
        "в лицевой счёт.",
    ),
    (
        Category.CONNECTION,
        "Договор о подключении направлен",
        "Здравствуйте! Заявка проверена, договор о подключении направлен вам. Подпишите его в течение "
        "10 рабочих дней; после этого начнутся работы по подключению.",
    ),
    (
        "",
        "Благодарим за обращение",
        "Здравствуйте! Благодарим за обращение. Если у вас останутся вопросы, напишите нам здесь же.",
    ),
)


@dataclass(frozen=True)
class DemoAppeal:
    kind: str
    category: str
    status: str

    def __str__(self) -> str:
        if self.kind == AppealKind.CONNECTION:
            return f"{AppealKind(self.kind).label} — {Status(self.status).label}"
        return f"{AppealKind(self.kind).label} «{Category(self.category).label}» — {Status(self.status).label}"


@dataclass
class AppealsReport:
    templates: int = 0  # created now
    appeals: int = 0  # created now
    cases: tuple[DemoAppeal, ...] = ()  # the demo subscriber's cases, made now or before


def _photo(text: str, color: tuple[int, int, int]) -> bytes:
    """A small picture, as a phone would send: a plate with a line of text on it."""
    image = Image.new("RGB", (320, 200), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 60, 300, 140), fill=(245, 245, 240), outline=(40, 40, 40), width=3)
    draw.text((36, 90), text, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _scan(title: str) -> bytes:
    """A one-page PDF with a title line, the same bytes every time."""
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[0]
        font = pdf.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
        )
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        page.Contents = pdf.make_stream(f"BT /F1 18 Tf 60 760 Td ({text}) Tj ET".encode("latin-1"))
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _file(name: str, content: bytes, kind: str = DocumentKind.OTHER) -> appeals.NewFile:
    return appeals.NewFile(name=name, content=io.BytesIO(content), size=len(content), document_kind=kind)


def templates_ensure() -> int:
    """The ready answers missing so far; returns how many were created."""
    present = set(AnswerTemplate.objects.filter(supplier__isnull=True).values_list("title", flat=True))
    missing = [
        AnswerTemplate(supplier=None, category=category, title=title, text=text)
        for category, title, text in ANSWER_TEMPLATES
        if title not in present
    ]
    AnswerTemplate.objects.bulk_create(missing)
    return len(missing)


def _cases(user: User) -> tuple[DemoAppeal, ...]:
    return tuple(
        DemoAppeal(kind=kind, category=category, status=status)
        for kind, category, status in Appeal.objects.filter(user=user)
        .order_by("created_at", "pk")
        .values_list("kind", "category", "status")
    )


def appeals_ensure(*, user: User, account: PersonalAccount, operator: User, today: dt.date) -> AppealsReport:
    """The demo subscriber's cases (when they have none yet) and the ready answers."""
    report = AppealsReport(templates=templates_ensure())
    if not Appeal.objects.filter(user=user).exists():
        report.appeals = _cases_make(user=user, account=account, operator=operator, today=today)
    report.cases = _cases(user)
    return report


def _cases_make(*, user: User, account: PersonalAccount, operator: User, today: dt.date) -> int:
    supplier: Supplier = account.supplier
    zone = zoneinfo.ZoneInfo(supplier.time_zone)

    def at(days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
        day = today - dt.timedelta(days=days_ago)
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(dt.UTC)

    def operator_step(appeal: Appeal, action: str, when: dt.datetime, text: str = "") -> None:
        appeals.appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=action, text=text, now=when)

    web, portal = AuthChannel.WEB, NotifyChannel.PORTAL

    # An application for connection of a house, checked and sent a contract.
    connection = appeals.connection_apply(
        request=appeals.ConnectionRequest(
            supplier_id=supplier.pk,
            program=ConnectionProgram.DOGAZIFICATION,
            applicant_name=f"{user.last_name} {user.first_name} Сергеевна",
            applicant_phone=user.phone or "+79990000001",
            object_address="Московская обл., Раменский г.о., д. Сельцо, ул. Лесная, уч. 7",
            land_cadastral_number="50:23:0040213:57",
            house_cadastral_number="50:23:0040213:412",
            max_hourly_m3="5",
            usages=[Usage.COOKING, Usage.WATER_HEATING, Usage.HEATING],
            comment="Газопровод проходит вдоль улицы, дом жилой, отопление сейчас электрическое.",
        ),
        files=[
            _file(
                "Выписка ЕГРН — участок.pdf", _scan("EGRN extract: land plot 50:23:0040213:57"), DocumentKind.LAND_TITLE
            ),
            _file("Выписка ЕГРН — дом.pdf", _scan("EGRN extract: house 50:23:0040213:412"), DocumentKind.HOUSE_TITLE),
            _file("Паспорт.jpg", _photo("PASSPORT (demo)", (176, 196, 222)), DocumentKind.PASSPORT),
            _file("Ситуационный план.pdf", _scan("Site plan (demo)"), DocumentKind.SITE_PLAN),
        ],
        user=user,
        notify_channel=portal,
        channel=web,
        now=at(20, 12, 15),
    )
    operator_step(connection, "check", at(17, 10, 5))
    templates = dict(AnswerTemplate.objects.filter(supplier__isnull=True).values_list("title", "text"))
    operator_step(connection, "send_contract", at(10, 16, 40), templates["Договор о подключении направлен"])

    # An appeal about a charge, answered: the answer waits to be rated.
    answered = appeals.appeal_create(
        category=Category.CHARGE,
        text="Здравствуйте! За прошлый месяц начислено почти вдвое больше обычного, хотя показания я передала "
        "вовремя. Фото счётчика прикладываю. Прошу проверить начисление.",
        account_id=account.pk,
        files=[_file("Счётчик.jpg", _photo("0 1 2 3 4 . 5 6 7", (210, 210, 200)))],
        user=user,
        notify_channel=portal,
        channel=web,
        now=at(9, 9, 40),
    )
    operator_step(answered, "take", at(8, 11))
    operator_step(answered, "answer", at(6, 15, 20), templates["Начисление проверено, перерасчёт сделан"])

    # An appeal about readings: the operator asked for a photo and waits for the answer.
    waiting = appeals.appeal_create(
        category=Category.READINGS,
        text="Показания в личном кабинете отличаются от тех, что я передавала. Проверьте, пожалуйста.",
        account_id=account.pk,
        user=user,
        notify_channel=portal,
        channel=web,
        now=at(4, 19, 5),
    )
    operator_step(waiting, "take", at(3, 10, 10))
    operator_step(waiting, "ask", at(3, 10, 25), templates["Нужно фото счётчика"])

    # A new appeal: a payment made at a bank's office, with the receipt.
    appeals.appeal_create(
        category=Category.PAYMENT,
        text="Оплатила квитанцию в отделении банка, но платёж пока не отображается. Чек прикладываю.",
        account_id=account.pk,
        files=[_file("Чек об оплате.pdf", _scan("Payment receipt (demo)"))],
        user=user,
        notify_channel=portal,
        channel=web,
        now=at(1, 8, 30),
    )
    return 4
