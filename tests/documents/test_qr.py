"""The payment QR code of ГОСТ Р 56042-2014: the payload built, parsed and checked, and the
PNG that a scanner reads back to the same text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abonent.documents.qr import (
    FREE_TEXT_MAX,
    MANDATORY,
    SEPARATORS,
    QrPayloadInvalid,
    qr_payload_build,
    qr_payload_parse,
    qr_png,
)
from tests.conftest import need_binary

PAYEE = [
    ("Name", 'ООО "Газпром межрегионгаз Москва"'),
    ("PersonalAcc", "40702810938000000001"),
    ("BankName", "ПАО Сбербанк"),
    ("BIC", "044525225"),
    ("CorrespAcc", "30101810400000000225"),
]
MANDATORY_TEXT = (
    'Name=ООО "Газпром межрегионгаз Москва"|PersonalAcc=40702810938000000001|BankName=ПАО Сбербанк'
    "|BIC=044525225|CorrespAcc=30101810400000000225"
)
FREE_TEXT = ["LastName", "FirstName", "MiddleName", "PayerAddress", "ServiceName", "Flat"]


def fields_with(**changes: str | None) -> list[tuple[str, str | None]]:
    """The payee's mandatory block with ``changes`` (None: the field left out), then the
    additional fields of ``changes`` that are not mandatory, in the order given."""
    mandatory = [(key, changes.get(key, value)) for key, value in PAYEE if changes.get(key, value) is not None]
    return mandatory + [(key, value) for key, value in changes.items() if key not in MANDATORY]


def problems_of(fields: list[tuple[str, str | None]]) -> list[str]:
    with pytest.raises(QrPayloadInvalid) as raised:
        qr_payload_build(fields)
    assert str(raised.value) == "; ".join(raised.value.problems)
    return raised.value.problems


def parse_problems(payload: str | bytes, *, strict: bool = True) -> list[str]:
    with pytest.raises(QrPayloadInvalid) as raised:
        qr_payload_parse(payload, strict=strict)
    return raised.value.problems


# --- build ---------------------------------------------------------------------------------


def test_build_gives_the_exact_payload_with_the_mandatory_block_first() -> None:
    given_order = [
        ("PersAcc", "770000000001"),
        ("BIC", "044525225"),
        ("Sum", "42588"),
        ("Name", 'ООО "Газпром межрегионгаз Москва"'),
        ("LastName", "Иванова"),
        ("MiddleName", None),  # left out
        ("CorrespAcc", "30101810400000000225"),
        ("FirstName", ""),  # left out
        ("BankName", "ПАО Сбербанк"),
        ("PaymPeriod", "102026"),
        ("PersonalAcc", "40702810938000000001"),
        ("TechCode", "02"),
    ]

    payload = qr_payload_build(given_order)

    assert payload == (
        "ST00012|" + MANDATORY_TEXT + "|PersAcc=770000000001|Sum=42588|LastName=Иванова|PaymPeriod=102026|TechCode=02"
    )
    order = qr_payload_parse(payload)
    assert list(order.fields)[:5] == list(MANDATORY) == ["Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc"]
    assert (order.separator, order.encoding) == ("|", "utf-8")


def test_the_mandatory_block_alone_is_a_payload() -> None:
    assert qr_payload_build(PAYEE) == "ST00012|" + MANDATORY_TEXT


def test_a_value_with_the_separator_makes_the_next_candidate_the_separator() -> None:
    payload = qr_payload_build(fields_with(PayerAddress="ул. Садовая | корп. 2", LastName="Иванова"))

    assert payload == "ST00012#" + MANDATORY_TEXT.replace("|", "#") + (
        "#PayerAddress=ул. Садовая | корп. 2#LastName=Иванова"
    )
    order = qr_payload_parse(payload)
    assert order.separator == "#"
    assert order["PayerAddress"] == "ул. Садовая | корп. 2"
    assert order.get("LastName") == "Иванова"
    assert order.get("Sum") is None


def test_values_with_the_first_candidates_make_the_first_free_one_the_separator() -> None:
    payload = qr_payload_build(fields_with(PayerAddress="д. 12|3, кв. #4", Purpose="Оплата; л/с 770000000001"))

    assert payload.startswith("ST00012:Name=")
    order = qr_payload_parse(payload)
    assert order.separator == ":"
    assert (order["PayerAddress"], order["Purpose"]) == ("д. 12|3, кв. #4", "Оплата; л/с 770000000001")


def test_values_holding_every_separator_are_refused() -> None:
    every = SEPARATORS
    assert len(every) == 20

    assert problems_of(fields_with(Purpose=every[:10], PayerAddress=every[10:])) == [
        "значения содержат все допустимые разделители"
    ]


def test_a_mandatory_block_over_300_bytes_is_refused() -> None:
    # 150 Cyrillic letters: within Name's 160 characters, but 300 bytes of UTF-8 on their own
    long_name = "Ж" * 150

    assert problems_of(fields_with(Name=long_name)) == ["обязательный блок длиннее 300 байт"]


def test_a_mandatory_block_of_exactly_300_bytes_is_accepted() -> None:
    rest = len(MANDATORY_TEXT.encode()) - len('ООО "Газпром межрегионгаз Москва"'.encode())
    name = "Ж" * ((300 - rest) // 2) + "Z" * ((300 - rest) % 2)
    payload = qr_payload_build(fields_with(Name=name))

    assert len(payload.removeprefix("ST00012|").encode()) == 300
    assert qr_payload_parse(payload)["Name"] == name


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"Name": None}, ["нет обязательного поля Name"]),
        ({"PersonalAcc": None}, ["нет обязательного поля PersonalAcc"]),
        ({"BankName": None}, ["нет обязательного поля BankName"]),
        ({"BIC": None}, ["нет обязательного поля BIC"]),
        ({"CorrespAcc": None}, ["нет обязательного поля CorrespAcc"]),
        ({"BIC": "  "}, ["нет обязательного поля BIC"]),  # blank after cleaning
        ({"PersonalAcc": "4070281093800000000"}, ["PersonalAcc: значение «4070281093800000000» не по формату"]),
        ({"PersonalAcc": "00702810938000000001"}, ["PersonalAcc: значение «00702810938000000001» не по формату"]),
        ({"PersonalAcc": "40702Z10938000000001"}, ["PersonalAcc: значение «40702Z10938000000001» не по формату"]),
        ({"PersonalAcc": "407028109380000000011"}, ["PersonalAcc: длиннее 20 символов"]),
        ({"BIC": "04452522"}, ["BIC: значение «04452522» не по формату"]),
        ({"BIC": "04452522A"}, ["BIC: значение «04452522A» не по формату"]),
        ({"BIC": "0445252250"}, ["BIC: длиннее 9 символов"]),
        ({"CorrespAcc": "3010181040000000022"}, ["CorrespAcc: значение «3010181040000000022» не по формату"]),
        ({"KPP": "77360100"}, ["KPP: значение «77360100» не по формату"]),
        ({"KPP": "773601O01"}, ["KPP: значение «773601O01» не по формату"]),
        ({"PayeeINN": "77070838931"}, ["PayeeINN: значение «77070838931» не по формату"]),
        ({"PayeeINN": "770708389"}, ["PayeeINN: значение «770708389» не по формату"]),
        ({"Sum": "425.88"}, ["Sum: значение «425.88» не по формату"]),
        ({"Sum": "-42588"}, ["Sum: значение «-42588» не по формату"]),
        ({"Sum": "1" * 19}, ["Sum: длиннее 18 символов"]),
        ({"PaymPeriod": "132026"}, ["PaymPeriod: значение «132026» не по формату"]),
        ({"PaymPeriod": "002026"}, ["PaymPeriod: значение «002026» не по формату"]),
        ({"PaymPeriod": "10.2026"}, ["PaymPeriod: длиннее 6 символов"]),
        ({"PaymPeriod": "202610"}, ["PaymPeriod: значение «202610» не по формату"]),
        ({"TechCode": "00"}, ["TechCode: значение «00» не по формату"]),
        ({"TechCode": "16"}, ["TechCode: значение «16» не по формату"]),
        ({"TechCode": "2"}, ["TechCode: значение «2» не по формату"]),
        ({"BankName": "Б" * 46}, ["BankName: длиннее 45 символов"]),
        ({"Name": None, "BIC": "1"}, ["нет обязательного поля Name", "BIC: значение «1» не по формату"]),
    ],
)
def test_a_missing_or_malformed_field_is_named(changes: dict[str, str | None], problems: list[str]) -> None:
    assert problems_of(fields_with(**changes)) == problems


@pytest.mark.parametrize(
    ("changes", "value"),
    [
        ({"KPP": "7736AB001"}, "7736AB001"),
        ({"KPP": "0"}, "0"),
        ({"PayeeINN": "770708389312"}, "770708389312"),
        ({"PayeeINN": "0"}, "0"),
        ({"CorrespAcc": "0"}, "0"),
        ({"PersonalAcc": "40702K10938000000001"}, "40702K10938000000001"),
        ({"TechCode": "15"}, "15"),
        ({"TechCode": "01"}, "01"),
        ({"PaymPeriod": "122026"}, "122026"),
        ({"Sum": "0"}, "0"),
    ],
)
def test_the_edges_of_the_formats_are_accepted(changes: dict[str, str], value: str) -> None:
    (key,) = changes
    assert qr_payload_parse(qr_payload_build(fields_with(**changes)))[key] == value


def test_unknown_and_repeated_fields_are_refused() -> None:
    fields = [*PAYEE, ("Payer", "Иванова"), ("Sum", "100"), ("Sum", "200")]

    assert problems_of(fields) == ["неизвестное поле Payer", "поле Sum дважды"]


def test_line_breaks_in_values_become_spaces() -> None:
    payload = qr_payload_build(
        fields_with(
            PayerAddress="  г. Подольск,\r\nул. Садовая,\n\nд. 12\tкв. 34\u2028подъезд 2 ", LastName="Иванова\n"
        )
    )

    order = qr_payload_parse(payload)
    assert order["PayerAddress"] == "г. Подольск, ул. Садовая, д. 12 кв. 34 подъезд 2"
    assert order["LastName"] == "Иванова"
    assert "\n" not in payload
    assert "\r" not in payload


def test_a_long_free_text_is_cut_with_an_ellipsis() -> None:
    address = "г. Подольск, " + "ул. Очень Длинная " * 20  # 373 characters
    exact = "Я" * FREE_TEXT_MAX

    order = qr_payload_parse(qr_payload_build(fields_with(PayerAddress=address, LastName=exact)))

    assert FREE_TEXT_MAX == 160
    cut = order["PayerAddress"]
    assert len(cut) == 160
    assert cut == address[:159] + "…"
    assert order["LastName"] == exact  # 160 characters: not cut


def test_a_cut_drops_the_space_before_the_ellipsis() -> None:
    value = "А" * 158 + " " + "Б" * 10  # the 159th character is a space

    order = qr_payload_parse(qr_payload_build(fields_with(PayerAddress=value)))

    assert order["PayerAddress"] == "А" * 158 + "…"


def test_a_long_field_with_a_limit_is_refused_not_cut() -> None:
    assert problems_of(fields_with(Purpose="О" * 161)) == ["Purpose: длиннее 160 символов"]


# --- parse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "problems"),
    [
        ("", ["нет заголовка ST0001"]),
        ("ST00012", ["нет заголовка ST0001"]),
        ("ST00022|" + MANDATORY_TEXT, ["нет заголовка ST0001"]),
        ("st00012|" + MANDATORY_TEXT, ["нет заголовка ST0001"]),
        ("ST00014|" + MANDATORY_TEXT, ["неизвестная кодировка «4»: ожидается 1, 2 или 3"]),
        ("ST00012=" + MANDATORY_TEXT, ["недопустимый разделитель «=»"]),
        ("ST00012N" + MANDATORY_TEXT, ["недопустимый разделитель «N»"]),
    ],
)
def test_a_bad_header_is_named(payload: str, problems: list[str]) -> None:
    assert parse_problems(payload) == problems
    assert parse_problems(payload, strict=False) == problems


@pytest.mark.parametrize(
    ("payload", "problems"),
    [
        (b"ST0002", ["нет заголовка ST0001"]),
        (b"QR00012|Name=x", ["нет заголовка ST0001"]),
        (b"ST00019|Name=x", ["неизвестная кодировка «9»: ожидается 1, 2 или 3"]),
        ("ST00012|Name=Газ".encode("cp1251"), ["текст не в кодировке utf-8"]),
    ],
)
def test_bytes_with_a_bad_header_or_encoding_are_named(payload: bytes, problems: list[str]) -> None:
    assert parse_problems(payload) == problems


def test_bytes_in_cp1251_are_decoded_by_the_header() -> None:
    text = "ST00011|" + MANDATORY_TEXT + "|LastName=Иванова|PayerAddress=г. Подольск, ул. Садовая"

    order = qr_payload_parse(text.encode("cp1251"))

    assert order.encoding == "cp1251"
    assert order["Name"] == 'ООО "Газпром межрегионгаз Москва"'
    assert (order["LastName"], order["PayerAddress"]) == ("Иванова", "г. Подольск, ул. Садовая")


def test_bytes_in_utf8_and_koi8r_are_decoded_by_the_header() -> None:
    utf8 = qr_payload_parse(("ST00012|" + MANDATORY_TEXT + "|LastName=Ёлкина").encode())
    koi8 = qr_payload_parse(("ST00013|" + MANDATORY_TEXT + "|LastName=Ёлкина").encode("koi8-r"))

    assert (utf8.encoding, utf8["LastName"]) == ("utf-8", "Ёлкина")
    assert (koi8.encoding, koi8["LastName"], koi8["BankName"]) == ("koi8-r", "Ёлкина", "ПАО Сбербанк")


@pytest.mark.parametrize(
    ("tail", "problems"),
    [
        ("|Sum", ["часть 6 «Sum» не вида Поле=Значение"]),
        ("|=100", ["часть 6 «=100» не вида Поле=Значение"]),
        ("||Sum=100", ["часть 6 «» не вида Поле=Значение"]),
        ("|Sum=100|Sum=200", ["поле Sum дважды"]),
        ("|sum=100|SUM=200", ["поле Sum дважды"]),
        ("|Name=Другой", ["поле Name дважды"]),
        ("|Payer=Иванова", ["неизвестное поле Payer"]),
        ("|Sum=1,5", ["Sum: значение «1,5» не по формату"]),
        ("|TechCode=99", ["TechCode: значение «99» не по формату"]),
    ],
)
def test_a_broken_structure_is_named(tail: str, problems: list[str]) -> None:
    assert parse_problems("ST00012|" + MANDATORY_TEXT + tail) == problems


def test_a_long_part_is_quoted_by_its_first_40_characters() -> None:
    part = "Ж" * 60

    assert parse_problems("ST00012|" + MANDATORY_TEXT + "|" + part) == [f"часть 6 «{'Ж' * 40}» не вида Поле=Значение"]


def test_keys_are_matched_regardless_of_case() -> None:
    order = qr_payload_parse("ST00012|" + MANDATORY_TEXT + "|lastName=Иванова|PERSACC=770000000001|techcode=02")

    assert order.fields == {
        "Name": 'ООО "Газпром межрегионгаз Москва"',
        "PersonalAcc": "40702810938000000001",
        "BankName": "ПАО Сбербанк",
        "BIC": "044525225",
        "CorrespAcc": "30101810400000000225",
        "LastName": "Иванова",
        "PersAcc": "770000000001",
        "TechCode": "02",
    }


def test_a_value_may_hold_an_equals_sign() -> None:
    assert qr_payload_parse("ST00012|" + MANDATORY_TEXT + "|Purpose=л/с=770000000001")["Purpose"] == "л/с=770000000001"


def test_a_trailing_separator_is_accepted() -> None:
    order = qr_payload_parse("ST00012|" + MANDATORY_TEXT + "|Sum=42588|")

    assert order["Sum"] == "42588"
    assert list(order.fields) == [*MANDATORY, "Sum"]


def test_strict_checks_what_the_builder_checks_and_non_strict_only_the_structure() -> None:
    loose = "ST00012|BIC=04452522|" + MANDATORY_TEXT.replace("|BIC=044525225", "") + "|Payer=Иванова|Sum=1.5"

    assert parse_problems(loose) == ["неизвестное поле Payer"]
    no_unknown = loose.replace("|Payer=Иванова", "")
    assert parse_problems(no_unknown) == [
        "BIC: значение «04452522» не по формату",
        "Sum: значение «1.5» не по формату",
    ]
    order = qr_payload_parse(loose, strict=False)
    assert order.fields == {
        "BIC": "04452522",
        "Name": 'ООО "Газпром межрегионгаз Москва"',
        "PersonalAcc": "40702810938000000001",
        "BankName": "ПАО Сбербанк",
        "CorrespAcc": "30101810400000000225",
        "Payer": "Иванова",
        "Sum": "1.5",
    }


def test_strict_wants_the_mandatory_block_first_and_in_order() -> None:
    swapped = "ST00012|PersonalAcc=40702810938000000001|" + MANDATORY_TEXT.replace(
        "|PersonalAcc=40702810938000000001", ""
    )

    assert parse_problems(swapped) == [
        "обязательные поля не в начале или не по порядку: Name, PersonalAcc, BankName, BIC, CorrespAcc"
    ]
    assert list(qr_payload_parse(swapped, strict=False).fields)[:2] == ["PersonalAcc", "Name"]


def test_strict_wants_the_mandatory_block_within_300_bytes() -> None:
    payload = "ST00012|" + MANDATORY_TEXT.replace('ООО "Газпром межрегионгаз Москва"', "Ж" * 150)

    assert parse_problems(payload) == ["обязательный блок длиннее 300 байт"]
    assert qr_payload_parse(payload, strict=False)["Name"] == "Ж" * 150


def test_a_missing_mandatory_field_is_named_strict_or_not() -> None:
    payload = "ST00012|" + MANDATORY_TEXT.replace("|BankName=ПАО Сбербанк", "") + "|Foo=1"

    assert parse_problems(payload, strict=False) == ["нет обязательного поля BankName"]
    assert parse_problems(payload.replace("|Foo=1", "")) == ["нет обязательного поля BankName"]


def test_an_empty_body_is_missing_every_mandatory_field() -> None:
    assert parse_problems("ST00012|") == [f"нет обязательного поля {key}" for key in MANDATORY]


# --- the round trip ------------------------------------------------------------------------

# Text of any kind: every plane, separators, line breaks, «=», spaces at the ends
free_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(SEPARATORS + "=\r\n\t ")), max_size=200
)


@st.composite
def payer_fields(draw: st.DrawFn) -> tuple[list[tuple[str, str]], str]:
    """Free-text fields with any text except one separator (so one is left), and the
    separator that was kept out of them."""
    spare = draw(st.sampled_from(SEPARATORS))
    keys = draw(st.lists(st.sampled_from(FREE_TEXT), unique=True, min_size=1))
    return [(key, draw(free_text).replace(spare, "")) for key in keys], spare


def cleaned(value: str) -> str:
    """What the builder makes of a free-text value: one line (a run of line breaks is one
    space), no spaces at the ends, at most 160 characters with «…» at the end of a cut one."""
    one_line = _one_space_a_break_run(value).strip()
    if len(one_line) > FREE_TEXT_MAX:
        one_line = one_line[: FREE_TEXT_MAX - 1].rstrip() + "…"
    return one_line


def _one_space_a_break_run(value: str) -> str:
    out: list[str] = []
    previous_break = False
    for char in value:
        is_break = char in "\r\n\t\v\f\u2028\u2029"
        if is_break and not previous_break:
            out.append(" ")
        elif not is_break:
            out.append(char)
        previous_break = is_break
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(payer_fields())
def test_any_free_text_comes_back_as_the_builder_cleaned_it(drawn: tuple[list[tuple[str, str]], str]) -> None:
    payer, spare = drawn
    fields = [*PAYEE, ("PersAcc", "770000000001"), *payer, ("TechCode", "02")]

    payload = qr_payload_build(fields)
    order = qr_payload_parse(payload)

    expected = {key: cleaned(value) for key, value in fields}
    assert order.fields == {key: value for key, value in expected.items() if value}
    assert list(order.fields) == [key for key, _value in fields if expected[key]]
    assert order.separator not in "".join(order.fields.values())
    assert order.separator == next(s for s in SEPARATORS if s not in "".join(expected.values()))
    assert SEPARATORS.index(order.separator) <= SEPARATORS.index(spare)


# --- the picture ---------------------------------------------------------------------------


BILL_PAYLOAD = qr_payload_build(
    [
        *PAYEE,
        ("PayeeINN", "7707083893"),
        ("KPP", "773601001"),
        ("PersAcc", "770000000001"),
        ("LastName", "Иванова"),
        ("FirstName", "Мария"),
        ("MiddleName", "Петровна"),
        ("PayerAddress", "142100, Московская область, г. Подольск, ул. Садовая, д. 12, кв. 34"),
        ("PaymPeriod", "102026"),
        ("Sum", "42588"),
        ("Purpose", "Оплата за газ за октябрь 2026, л/с 770000000001"),
        ("TechCode", "02"),
    ]
)


def zbar(path: Path) -> str:
    """The text of the one QR code in the image, as a bank app's scanner reads it."""
    binary = need_binary("zbarimg")
    result = subprocess.run([binary, "-q", "--raw", str(path)], capture_output=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode("utf-8").removesuffix("\n")


@pytest.mark.parametrize(
    "payload",
    [
        BILL_PAYLOAD,
        qr_payload_build(fields_with(PayerAddress="ул. Садовая | корп. 2 «Ёлки»", Sum="100")),
        qr_payload_build(fields_with(PayerAddress="Я" * 400)),
    ],
    ids=["a bill", "another separator", "a long address"],
)
def test_the_png_reads_back_to_the_exact_payload(payload: str, tmp_path: Path) -> None:
    png = qr_png(payload)
    path = tmp_path / "qr.png"
    path.write_bytes(png)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert zbar(path) == payload
    assert qr_payload_parse(zbar(path)).fields == qr_payload_parse(payload).fields


def test_the_png_has_four_pixels_a_module_and_a_quiet_zone(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "qr.png"
    path.write_bytes(qr_png(qr_payload_build(PAYEE)))

    with Image.open(path) as image:
        width, height = image.size
        grey = image.convert("L")
        assert width == height
        assert width % 4 == 0
        # the quiet zone: four modules of white on every side
        border = [grey.getpixel((x, y)) for x in range(width) for y in range(16)]
        assert set(border) == {255}
        # scaled down to one pixel a module it still reads: the modules are whole squares of 4
        small = grey.resize((width // 4, height // 4), Image.Resampling.NEAREST).resize(
            (width, height), Image.Resampling.NEAREST
        )
        assert small.tobytes() == grey.tobytes()
