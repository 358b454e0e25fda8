import pytest

from abonent.core import requisites

# Valid vectors are real published requisites (a bank, a supplier, the Federal Tax Service);
# each invalid one differs from a valid one in a single place.


class TestCheckInn:
    @pytest.mark.parametrize("value", ["7707083893", "3906214945", "7736050003", "500100732259", "773370857141"])
    def test_check_inn_accepts_valid_numbers(self, value: str) -> None:
        assert requisites.check_inn(value) is None

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("7707083894", "Неверное контрольное число ИНН: проверьте цифры"),
            ("500100732258", "Неверное контрольное число ИНН: проверьте цифры"),
            ("500100732269", "Неверное контрольное число ИНН: проверьте цифры"),
            ("77070838", "ИНН организации — 10 цифр, ИНН физического лица — 12 цифр"),
            ("77070838931", "ИНН организации — 10 цифр, ИНН физического лица — 12 цифр"),
            ("77070838A3", "ИНН состоит только из цифр"),
            (" 7707083893", "ИНН состоит только из цифр"),
            ("", "ИНН состоит только из цифр"),
        ],
    )
    def test_check_inn_says_what_is_wrong(self, value: str, message: str) -> None:
        assert requisites.check_inn(value) == message


class TestCheckKppAndOgrn:
    @pytest.mark.parametrize("value", ["773601001", "3906AB001", "390601001"])
    def test_check_kpp_accepts(self, value: str) -> None:
        assert requisites.check_kpp(value) is None

    @pytest.mark.parametrize("value", ["77360100", "7736010011", "7736ab001", "77360100X", ""])
    def test_check_kpp_rejects(self, value: str) -> None:
        assert (
            requisites.check_kpp(value) == "КПП — 9 символов: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры"
        )

    @pytest.mark.parametrize("value", ["1027700132195", "1023900770222", "304500116000157"])
    def test_check_ogrn_accepts(self, value: str) -> None:
        assert requisites.check_ogrn(value) is None

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("1027700132196", "Неверное контрольное число ОГРН: проверьте цифры"),
            ("304500116000158", "Неверное контрольное число ОГРНИП: проверьте цифры"),
            ("10277001321", "ОГРН — 13 цифр, ОГРНИП — 15 цифр"),
            ("1027700l32195", "ОГРН состоит только из цифр"),
        ],
    )
    def test_check_ogrn_rejects(self, value: str, message: str) -> None:
        assert requisites.check_ogrn(value) == message


class TestBankAccounts:
    # ПАО Сбербанк, Москва: БИК 044525225, к/с 30101810400000000225
    @pytest.mark.parametrize(
        ("account", "bic"),
        [
            ("40702810938000000001", "044525225"),
        ],
    )
    def test_settlement_account_matches_bic(self, account: str, bic: str) -> None:
        assert requisites.check_settlement_account(account, bic) is None

    @pytest.mark.parametrize(
        ("draft", "bic"),
        [
            ("40702810X00000012345", "044525225"),
            ("40817810X99910004312", "044525999"),
            ("40702810X20000000000", "042748634"),
        ],
    )
    def test_settlement_account_with_key_by_central_bank_procedure(self, draft: str, bic: str) -> None:
        # Положение ЦБ РФ о порядке расчёта контрольного ключа: put 0 in the key place, multiply
        # by 7-1-3 weights, add the last digits of the products, then key = (sum mod 10) × 3 mod 10.
        digits = bic[-3:] + draft.replace("X", "0")
        total = sum((int(d) * w) % 10 for d, w in zip(digits, (7, 1, 3) * 8, strict=False))
        account = draft.replace("X", str(total % 10 * 3 % 10))

        assert requisites.check_settlement_account(account, bic) is None

    @pytest.mark.parametrize(
        ("account", "bic", "message"),
        [
            (
                "40702810938000000002",
                "044525225",
                "Расчётный счёт не соответствует БИК банка: проверьте цифры счёта и БИК",
            ),
            (
                "40702810938000000001",
                "044525226",
                "Расчётный счёт не соответствует БИК банка: проверьте цифры счёта и БИК",
            ),
            ("4070281093800000000", "044525225", "Расчётный счёт — 20 цифр"),
            ("4070281093800000000Z", "044525225", "Расчётный счёт — 20 цифр"),
            ("40702810938000000001", "04452522", "Сначала укажите верный БИК банка: по нему проверяется счёт"),
        ],
    )
    def test_settlement_account_rejects(self, account: str, bic: str, message: str) -> None:
        assert requisites.check_settlement_account(account, bic) == message

    @pytest.mark.parametrize(
        ("account", "bic"), [("30101810400000000225", "044525225"), ("30101810145250000974", "044525974")]
    )
    def test_correspondent_account_matches_bic(self, account: str, bic: str) -> None:
        assert requisites.check_correspondent_account(account, bic) is None

    @pytest.mark.parametrize(
        ("account", "bic", "message"),
        [
            (
                "30101810400000000226",
                "044525225",
                "Корреспондентский счёт не соответствует БИК банка: проверьте цифры счёта и БИК",
            ),
            ("40101810400000000225", "044525225", "Корреспондентский счёт банка начинается с 30101"),
            ("3010181040000000022", "044525225", "Корреспондентский счёт — 20 цифр"),
        ],
    )
    def test_correspondent_account_rejects(self, account: str, bic: str, message: str) -> None:
        assert requisites.check_correspondent_account(account, bic) == message

    @pytest.mark.parametrize(
        ("value", "message"),
        [("044525225", None), ("04452522", "БИК — 9 цифр"), ("144525225", "БИК банка в России начинается с 04")],
    )
    def test_check_bic(self, value: str, message: str | None) -> None:
        assert requisites.check_bic(value) == message
