"""Submitting, correcting, reviewing and rejecting readings: every rule of DESIGN.md §5
with the supplier's switches, every bad value, and what is (not) stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from abonent.core.models import AuditRecord, Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.metering import services
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus, ReviewReason
from abonent.metering.models import Meter, Reading
from abonent.metering.selectors import WindowState, reading_form, reading_window, readings_history, readings_to_review
from tests.factories import account_make, meter_make
from tests.factories import reading_make as _standing
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

MSK = dt.timezone(dt.timedelta(hours=3))
IN_WINDOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK)


def _at(day: int, hour: int = 12, month: int = 11, tz: dt.tzinfo = MSK) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=tz)


@pytest.fixture
def user() -> User:
    return user_make(phone="+79123456789")


@pytest.fixture
def link(supplier: Supplier, user: User) -> AccountLink:
    account = account_make(supplier=supplier)
    return AccountLink.objects.create(
        user=user, account=account, is_default=True, proof="pin", channel="web", linked_at=IN_WINDOW
    )


@pytest.fixture
def meter(link: AccountLink) -> Meter:
    meter = meter_make(account=link.account, initial_value=Decimal("3.2"))
    _standing(meter, Period(2026, 10), "1234.5")
    return meter


def _terms(supplier: Supplier, **changes: object) -> None:
    SupplierTerms.objects.filter(supplier=supplier).update(**changes)


def _submit(link: AccountLink, meter: Meter, value: str, *, now: dt.datetime = IN_WINDOW, key: str | None = None):
    return services.reading_submit(
        link=link, meter_id=meter.pk, value=value, channel=ReadingChannel.WEB, submission_key=key, now=now
    )


class TestValues:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1300", Decimal("1300")),
            ("1300,5", Decimal("1300.5")),
            ("1300.5", Decimal("1300.5")),
            (" 1 300,250 ", Decimal("1300.25")),
            ("01300", Decimal("1300")),
            ("1300,000", Decimal("1300")),
            ("99999,999", Decimal("99999.999")),
            ("1234,50000000000000000", Decimal("1234.5")),
            ("000000000000000001234", Decimal("1234")),
        ],
    )
    def test_readable_values(self, meter: Meter, text: str, expected: Decimal) -> None:
        assert services.reading_value_parse(meter=meter, text=text) == expected

    @pytest.mark.parametrize(
        ("text", "error"),
        [
            ("", services.ReadingNotANumber),
            ("abc", services.ReadingNotANumber),
            ("12a", services.ReadingNotANumber),
            ("1,2,3", services.ReadingNotANumber),
            ("1e5", services.ReadingNotANumber),
            ("+5", services.ReadingNotANumber),
            ("١٢٣٤", services.ReadingNotANumber),  # Arabic-Indic digits
            ("１２３４", services.ReadingNotANumber),  # full-width digits
            ("-5", services.ReadingNegative),
            ("-1300,5", services.ReadingNegative),
            ("100000", services.ReadingTooManyDigits),
            ("9" * 400, services.ReadingTooManyDigits),
            ("1300,1234", services.ReadingTooManyDecimals),
            ("1234,00000000000000001", services.ReadingTooManyDecimals),
            ("NaN", services.ReadingNotANumber),
            ("Infinity", services.ReadingNotANumber),
        ],
    )
    def test_bad_values_say_what_to_fix(self, meter: Meter, text: str, error: type[Exception]) -> None:
        with pytest.raises(error) as caught:
            services.reading_value_parse(meter=meter, text=text)
        assert caught.value.field == "value"  # type: ignore[attr-defined]

    def test_the_messages(self, meter: Meter) -> None:
        with pytest.raises(
            services.ReadingTooManyDigits, match="5 цифр до запятой: показание не может быть больше 99999,999"
        ):
            services.reading_value_parse(meter=meter, text="123456")
        with pytest.raises(services.ReadingTooManyDecimals, match="не больше 3 знаков после запятой"):
            services.reading_value_parse(meter=meter, text="1,2345")
        meter.decimals = 0
        with pytest.raises(services.ReadingNotWhole, match="только целые кубометры"):
            services.reading_value_parse(meter=meter, text="1300,5")
        assert services.reading_value_parse(meter=meter, text="1300,0") == Decimal("1300")

    def test_bad_value_stores_nothing(self, link: AccountLink, meter: Meter) -> None:
        with pytest.raises(services.ReadingNotANumber):
            _submit(link, meter, "много")
        assert Reading.objects.count() == 1
        assert not AuditRecord.objects.filter(action__startswith="reading").exists()


class TestWindowAndPeriod:
    @pytest.mark.parametrize(
        ("now", "period", "state"),
        [
            (_at(1, 0), Period(2026, 11), WindowState.BEFORE),
            (_at(14, 23), Period(2026, 11), WindowState.BEFORE),
            (_at(15, 0), Period(2026, 11), WindowState.OPEN),
            (_at(25, 23), Period(2026, 11), WindowState.OPEN),
            (_at(26, 0), Period(2026, 12), WindowState.AFTER),
            (_at(30, 23), Period(2026, 12), WindowState.AFTER),
        ],
    )
    def test_a_reading_counts_for_the_month_up_to_the_end_of_its_window(
        self, supplier: Supplier, link: AccountLink, meter: Meter, now: dt.datetime, period: Period, state: WindowState
    ) -> None:
        window = reading_window(supplier=supplier, now=now)
        assert (window.period, window.state) == (period, state)
        assert window.opens_on == period.day(15)
        assert window.closes_on == period.day(25)
        recorded = _submit(link, meter, "1300", now=now)
        assert recorded.reading.period == period

    def test_the_day_is_the_suppliers_local_day(self, link: AccountLink, meter: Meter) -> None:
        supplier = link.account.supplier
        supplier.time_zone = "Europe/Kaliningrad"
        supplier.save()
        # 22:30 UTC on the 25th is 00:30 on the 26th in Moscow, but 23:59... in Kaliningrad (UTC+2) it is 00:30 too
        late = dt.datetime(2026, 11, 25, 21, 30, tzinfo=dt.UTC)  # 23:30 in Kaliningrad, 00:30 in Moscow
        window = reading_window(supplier=supplier, now=late)
        assert (window.state, window.period, window.today) == (
            WindowState.OPEN,
            Period(2026, 11),
            dt.date(2026, 11, 25),
        )
        assert window.closes_at == dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        assert _submit(link, meter, "1300", now=late).reading.period == Period(2026, 11)
        supplier.time_zone = "Europe/Moscow"
        supplier.save()
        assert reading_window(supplier=supplier, now=late).state == WindowState.AFTER

    def test_window_from_the_suppliers_terms_and_a_short_month(self, supplier: Supplier) -> None:
        _terms(supplier, reading_window_start_day=20, reading_window_end_day=31)
        window = reading_window(supplier=supplier, now=dt.datetime(2027, 2, 28, 12, tzinfo=MSK))
        assert (window.opens_on, window.closes_on, window.state) == (
            dt.date(2027, 2, 20),
            dt.date(2027, 2, 28),
            WindowState.OPEN,
        )
        assert "Сегодня последний день" in window.message

    def test_messages(self, supplier: Supplier) -> None:
        assert reading_window(supplier=supplier, now=_at(20)).message == (
            "Показания за ноябрь 2026 принимаются с 15.11.2026 по 25.11.2026 включительно."
        )
        assert reading_window(supplier=supplier, now=_at(3)).message == (
            "Приём показаний за ноябрь 2026 — с 15.11.2026 по 25.11.2026. "
            "Показания, переданные раньше, тоже будут учтены за ноябрь 2026."
        )
        assert reading_window(supplier=supplier, now=_at(27)).message == (
            "Приём показаний за ноябрь 2026 закончился. Показания, переданные сейчас, будут учтены "
            "за декабрь 2026; приём за декабрь 2026 — с 15.12.2026 по 25.12.2026."
        )


class TestRules:
    def test_accepted_with_consumption_and_an_audit_record(self, link: AccountLink, meter: Meter, user: User) -> None:
        recorded = _submit(link, meter, "1300,25")
        reading = Reading.objects.get(pk=recorded.reading.pk)
        assert recorded.created
        assert recorded.used_for_billing
        assert recorded.replaced is None
        assert (reading.value, reading.consumption, reading.period, reading.read_on) == (
            Decimal("1300.25"),
            Decimal("65.75"),
            Period(2026, 11),
            dt.date(2026, 11, 20),
        )
        assert (reading.status, reading.channel, reading.submitted_by, reading.review) == (
            ReadingStatus.ACCEPTED,
            ReadingChannel.WEB,
            user,
            "",
        )
        audit = AuditRecord.objects.get(action="reading_submit")
        assert (audit.actor_id, audit.object_id, audit.after["value"], audit.after["period"]) == (
            user.pk,
            str(reading.pk),
            "1300.25",
            "2026-11",
        )

    def test_below_the_previous_reading_is_refused(self, link: AccountLink, meter: Meter) -> None:
        with pytest.raises(services.ReadingBelowPrevious) as caught:
            _submit(link, meter, "1200")
        assert "меньше предыдущего (1\u202f234,5 м³ за октябрь 2026)" in caught.value.text
        assert Reading.objects.count() == 1

    def test_rollover_where_the_supplier_allows_it_wraps_at_the_meters_digits(
        self, supplier: Supplier, link: AccountLink
    ) -> None:
        _terms(supplier, rollover_allowed=True)
        meter = meter_make(account=link.account, serial="77", digits=5)
        _standing(meter, Period(2026, 10), "99990")
        recorded = _submit(link, meter, "15")
        assert recorded.reading.consumption == Decimal("25")
        assert recorded.reading.review == ReviewReason.DROP

    def test_at_most_the_suppliers_maximum_per_month_since_the_previous_reading(
        self, supplier: Supplier, link: AccountLink, meter: Meter
    ) -> None:
        _terms(supplier, max_monthly_consumption=Decimal("500"))
        with pytest.raises(services.ReadingTooHigh) as caught:
            _submit(link, meter, "1734,6")
        assert "Расход 500,1 м³ больше допустимого: не более 500 м³" in caught.value.text
        assert _submit(link, meter, "1734,5").reading.consumption == Decimal("500")

    def test_the_maximum_grows_with_the_months_since_the_previous_reading(
        self, supplier: Supplier, link: AccountLink
    ) -> None:
        _terms(supplier, max_monthly_consumption=Decimal("100"))
        meter = meter_make(account=link.account, serial="78")
        _standing(meter, Period(2026, 8), "1000")
        assert _submit(link, meter, "1300").reading.consumption == Decimal("300")  # 3 months

    def test_zero_consumption_as_the_supplier_says(self, supplier: Supplier, link: AccountLink, meter: Meter) -> None:
        _terms(supplier, zero_consumption_allowed=False)
        with pytest.raises(services.ReadingZeroConsumption):
            _submit(link, meter, "1234,5")
        _terms(supplier, zero_consumption_allowed=True)
        assert _submit(link, meter, "1234,5").reading.consumption == Decimal("0")

    def test_the_first_reading_is_measured_from_the_value_at_installation(self, link: AccountLink) -> None:
        meter = meter_make(
            account=link.account, serial="79", initial_value=Decimal("3.2"), installed_on=dt.date(2026, 9, 1)
        )
        assert _submit(link, meter, "100").reading.consumption == Decimal("96.8")
        with pytest.raises(services.ReadingBelowInitial, match=r"при установке \(50 м³\)"):
            _submit(link, meter_make(account=link.account, serial="80", initial_value=Decimal("50")), "10")

    def test_past_verification_kept_flagged_not_used(self, link: AccountLink, meter: Meter) -> None:
        meter.verification_due_on = dt.date(2026, 11, 19)
        meter.save()
        recorded = _submit(link, meter, "1300")
        assert recorded.reading.status == ReadingStatus.NOT_FOR_BILLING
        assert not recorded.used_for_billing
        meter.verification_due_on = dt.date(2026, 11, 20)  # verified through that day
        meter.save()
        assert _submit(link, meter, "1301").used_for_billing

    @pytest.mark.parametrize("status", [MeterStatus.REMOVED, MeterStatus.FAULTY])
    def test_a_removed_or_faulty_meter_is_refused(self, link: AccountLink, meter: Meter, status: str) -> None:
        meter.status = status
        meter.save()
        with pytest.raises(services.MeterNotInService):
            _submit(link, meter, "1300")
        assert Reading.objects.count() == 1

    def test_a_supplier_that_takes_no_readings_in_the_portal(
        self, supplier: Supplier, link: AccountLink, meter: Meter
    ) -> None:
        _terms(supplier, readings_allowed=False)
        with pytest.raises(services.ReadingsNotAccepted):
            _submit(link, meter, "1300")
        operator = user_make(phone="+79000000002", is_staff=True)
        recorded = services.reading_enter_by_operator(
            operator=operator, meter_id=meter.pk, value="1300", read_on=dt.date(2026, 11, 20), now=IN_WINDOW
        )
        assert recorded.reading.channel == ReadingChannel.OPERATOR

    def test_a_closed_account_takes_no_readings(self, link: AccountLink, meter: Meter) -> None:
        link.account.status, link.account.closed_on = "closed", dt.date(2026, 11, 1)
        link.account.save()
        with pytest.raises(services.AccountClosedForReadings, match="Лицевой счёт 770000000001 закрыт"):
            _submit(link, meter, "1300")
        assert Reading.objects.count() == 1
        form = reading_form(link=link, now=IN_WINDOW)
        assert form.open_entries == []
        assert form.entries[0].refusal == "Лицевой счёт закрыт: показания по нему не принимаются."

    def test_another_accounts_meter_is_not_found(self, supplier: Supplier, link: AccountLink) -> None:
        other = meter_make(account=account_make(supplier=supplier, number="770000000002"), serial="1")
        with pytest.raises(services.MeterNotFound):
            _submit(link, other, "10")
        assert not Reading.objects.filter(meter=other).exists()


class TestCorrectionsAndRepeats:
    def test_a_correction_supersedes_and_the_history_keeps_both(self, link: AccountLink, meter: Meter) -> None:
        first = _submit(link, meter, "1300").reading
        second = _submit(link, meter, "1290", now=_at(21))
        assert second.created
        assert second.replaced == first
        first.refresh_from_db()
        assert first.status == ReadingStatus.SUPERSEDED
        assert second.reading.replaces == first
        assert AuditRecord.objects.get(action="reading_correct").before == {"reading": first.pk, "value": "1300.000"}
        rows = readings_history(link=link, meter_id=meter.pk).rows
        assert [(r.reading.value, r.consumption, r.reading.status) for r in rows] == [
            (Decimal("1290"), Decimal("55.5"), ReadingStatus.ACCEPTED),
            (Decimal("1300"), Decimal("65.5"), ReadingStatus.SUPERSEDED),
            (Decimal("1234.5"), Decimal("1231.3"), ReadingStatus.ACCEPTED),
        ]

    def test_after_the_window_a_new_reading_counts_for_the_next_month(self, link: AccountLink, meter: Meter) -> None:
        november = _submit(link, meter, "1300").reading
        december = _submit(link, meter, "1310", now=_at(26)).reading
        november.refresh_from_db()
        assert (november.status, december.period, december.consumption) == (
            ReadingStatus.ACCEPTED,
            Period(2026, 12),
            Decimal("10"),
        )

    def test_the_same_value_twice_stores_one_reading(self, link: AccountLink, meter: Meter) -> None:
        first = _submit(link, meter, "1300")
        again = _submit(link, meter, "1300,000")
        assert (again.created, again.reading) == (False, first.reading)
        assert Reading.objects.count() == 2

    def test_a_repeated_key_answers_with_its_reading_even_after_the_window_closed(
        self, link: AccountLink, meter: Meter
    ) -> None:
        first = _submit(link, meter, "1300", key="abc")
        retry = _submit(link, meter, "1300", key="abc", now=_at(26))
        assert (retry.created, retry.reading) == (False, first.reading)
        with pytest.raises(services.SubmissionKeyReused):
            _submit(link, meter, "1301", key="abc")
        assert Reading.objects.count() == 2

    def test_a_long_key_is_kept_as_its_digest(self, link: AccountLink, meter: Meter) -> None:
        recorded = _submit(link, meter, "1300", key="k" * 200)
        assert len(recorded.reading.submission_key) == 64
        assert _submit(link, meter, "1300", key="k" * 200).created is False


class TestSeveralMeters:
    def test_each_meter_recorded_or_refused_on_its_own(self, link: AccountLink, meter: Meter) -> None:
        second = meter_make(account=link.account, serial="2")
        _standing(second, Period(2026, 10), "500")
        outcomes = services.readings_submit(
            link=link,
            values={meter.pk: "1300", second.pk: "400"},
            channel=ReadingChannel.APP,
            submission_key="f1",
            now=IN_WINDOW,
        )
        assert outcomes[0].recorded is not None
        assert outcomes[0].recorded.reading.value == Decimal("1300")
        assert isinstance(outcomes[1].error, services.ReadingBelowPrevious)
        assert Reading.objects.filter(period=Period(2026, 11)).count() == 1
        again = services.readings_submit(
            link=link,
            values={meter.pk: "1300", second.pk: "400"},
            channel=ReadingChannel.APP,
            submission_key="f1",
            now=IN_WINDOW,
        )
        assert again[0].recorded is not None
        assert again[0].recorded.created is False

    def test_a_malformed_value_or_a_strange_meter_stores_nothing(
        self, supplier: Supplier, link: AccountLink, meter: Meter
    ) -> None:
        second = meter_make(account=link.account, serial="2")
        with pytest.raises(services.ReadingsInvalid) as caught:
            services.readings_submit(
                link=link,
                values={meter.pk: "1300", second.pk: "12,34,5"},
                channel="web",
                submission_key=None,
                now=IN_WINDOW,
            )
        assert list(caught.value.by_meter) == [second.pk]
        assert caught.value.errors == {
            f"readings.{second.pk}.value": ["Введите показание цифрами, например 1234 или 1234,567"]
        }
        other = meter_make(account=account_make(supplier=supplier, number="770000000002"), serial="1")
        for strange in (other.pk, 2**63, 2**70, 0, -1):
            with pytest.raises(services.MeterNotFound):
                services.readings_submit(
                    link=link,
                    values={meter.pk: "1300", strange: "1"},
                    channel="web",
                    submission_key=None,
                    now=IN_WINDOW,
                )
        with pytest.raises(services.MeterNotFound):
            services.readings_submit(
                link=link, values={meter.pk: "1300", other.pk: "1"}, channel="web", submission_key=None, now=IN_WINDOW
            )
        for nothing in ({}, {meter.pk: "", second.pk: "  "}):
            with pytest.raises(services.ValidationFailed):
                services.readings_submit(link=link, values=nothing, channel="web", submission_key=None, now=IN_WINDOW)
        assert Reading.objects.count() == 1
        # a meter left empty is left out
        outcomes = services.readings_submit(
            link=link, values={meter.pk: "1300", second.pk: ""}, channel="web", submission_key=None, now=IN_WINDOW
        )
        assert [o.meter_id for o in outcomes] == [meter.pk]
        assert Reading.objects.count() == 2
        Reading.objects.filter(period=Period(2026, 11)).delete()
        assert Reading.objects.count() == 1


class TestForm:
    def test_what_the_form_shows(self, link: AccountLink, meter: Meter) -> None:
        removed = meter_make(
            account=link.account, serial="9", status=MeterStatus.REMOVED, installed_on=dt.date(2010, 1, 1)
        )
        expired = meter_make(account=link.account, serial="8", verification_due_on=dt.date(2026, 11, 1))
        form = reading_form(link=link, now=IN_WINDOW)
        assert [e.meter for e in form.entries] == [meter, expired, removed]
        entry = form.entries[0]
        assert (entry.base_value, entry.previous.value if entry.previous else None, entry.current, entry.step) == (
            Decimal("1234.5"),
            Decimal("1234.5"),
            None,
            "0.001",
        )
        assert form.entries[1].verification_passed
        assert form.entries[1].base_value == Decimal("0")
        assert not form.entries[2].accepts
        assert form.entries[2].refusal
        sent = _submit(link, meter, "1300").reading
        assert reading_form(link=link, now=IN_WINDOW).entries[0].current == sent
        assert reading_form(link=link, now=IN_WINDOW).entries[0].base_value == Decimal("1234.5")


class TestOperators:
    @pytest.fixture
    def operator(self) -> User:
        return user_make(phone="+79000000002", is_staff=True, first_name="Ольга", last_name="Смирнова")

    def test_an_operator_enters_a_reading_with_their_name(self, meter: Meter, operator: User) -> None:
        recorded = services.reading_enter_by_operator(
            operator=operator, meter_id=meter.pk, value="1280", read_on=dt.date(2026, 11, 10), now=IN_WINDOW
        )
        reading = recorded.reading
        assert (reading.channel, reading.submitted_by, reading.operator_name, reading.period) == (
            ReadingChannel.OPERATOR,
            operator,
            "Ольга Смирнова",
            Period(2026, 11),
        )

    def test_an_operators_reading_for_an_earlier_period_fits_between_its_neighbours(
        self, link: AccountLink, meter: Meter, operator: User
    ) -> None:
        _standing(meter, Period(2026, 8), "1100")
        with pytest.raises(services.ReadingAboveNext):
            services.reading_enter_by_operator(
                operator=operator, meter_id=meter.pk, value="1250", read_on=dt.date(2026, 9, 20), now=IN_WINDOW
            )
        september = services.reading_enter_by_operator(
            operator=operator, meter_id=meter.pk, value="1150", read_on=dt.date(2026, 9, 20), now=IN_WINDOW
        )
        assert (september.reading.period, september.reading.consumption) == (Period(2026, 9), Decimal("50"))
        for bad in (dt.date(2026, 11, 21), dt.date(2019, 5, 31)):
            with pytest.raises(services.ReadingDateInvalid):
                services.reading_enter_by_operator(
                    operator=operator, meter_id=meter.pk, value="1300", read_on=bad, now=IN_WINDOW
                )

    def test_flags_for_review_and_a_rejection_the_subscriber_sees(self, link: AccountLink, operator: User) -> None:
        meter = meter_make(account=link.account, serial="5")
        for month, value in enumerate(["1000", "1010", "1020", "1030", "1040"], start=6):
            _standing(meter, Period(2026, month), value, "10")
        high = _submit(link, meter, "1100").reading  # 60 m³ against 10 a month
        assert high.review == ReviewReason.HIGH
        assert list(readings_to_review()) == [high]
        with pytest.raises(services.RejectionReasonRequired):
            services.reading_reject(operator=operator, reading_id=high.pk, reason="  ", now=IN_WINDOW)
        services.reading_reject(
            operator=operator, reading_id=high.pk, reason="Контролёр снял 1041 м³ 19.11.2026", now=IN_WINDOW
        )
        high.refresh_from_db()
        assert (high.status, high.rejection_reason, high.reviewed_by) == (
            ReadingStatus.REJECTED,
            "Контролёр снял 1041 м³ 19.11.2026",
            operator,
        )
        assert list(readings_to_review()) == []
        assert AuditRecord.objects.get(action="reading_reject").after["reason"] == "Контролёр снял 1041 м³ 19.11.2026"
        with pytest.raises(services.ReadingNotStanding):
            services.reading_reject(operator=operator, reading_id=high.pk, reason="ещё раз", now=IN_WINDOW)
        # the period has no reading now: the subscriber may send it again
        again = _submit(link, meter, "1050")
        assert again.created
        assert again.reading.review == ""
        rows = readings_history(link=link, meter_id=meter.pk).rows
        assert [(r.reading.value, r.consumption) for r in rows[:2]] == [
            (Decimal("1050"), Decimal("10")),
            (Decimal("1100"), Decimal("60")),
        ]

    def test_zero_for_months_is_flagged_and_can_be_confirmed_once(self, link: AccountLink, operator: User) -> None:
        meter = meter_make(account=link.account, serial="6")
        _standing(meter, Period(2026, 8), "500", "12")
        _standing(meter, Period(2026, 9), "500", "0")
        _standing(meter, Period(2026, 10), "500", "0")
        zero = _submit(link, meter, "500").reading
        assert zero.review == ReviewReason.ZERO
        services.reading_review_confirm(operator=operator, reading_id=zero.pk, now=IN_WINDOW)
        with pytest.raises(
            services.ReadingAlreadyReviewed, match=r"Показание уже проверено: Ольга Смирнова, 20\.11\.2026 09:00 UTC"
        ):
            services.reading_review_confirm(operator=operator, reading_id=zero.pk, now=IN_WINDOW)
        with pytest.raises(services.RejectionReasonTooLong):
            services.reading_reject(operator=operator, reading_id=zero.pk, reason="x" * 501, now=IN_WINDOW)
        zero.refresh_from_db()
        assert (zero.status, zero.reviewed_by) == (ReadingStatus.ACCEPTED, operator)
        assert list(readings_to_review()) == []


class TestImport:
    HEADER = "supplier;account;serial;value;date\n"

    @pytest.fixture
    def operator(self) -> User:
        return user_make(phone="+79000000002", is_staff=True, first_name="Ольга", last_name="Смирнова")

    def _import(self, operator: User, text: str, *, mode=services.ImportMode.WHOLE, dry_run=False, encoding="utf-8"):
        return services.readings_import(
            operator=operator,
            content=text.encode(encoding),
            mode=mode,
            dry_run=dry_run,
            now=IN_WINDOW,
            file_name="f.csv",
        )

    def test_dry_run_then_apply_then_again(self, meter: Meter, operator: User) -> None:
        text = self.HEADER + "gaz-msk;7700 0000 0001;0412345;1300,5;18.11.2026\n"
        dry = self._import(operator, text, dry_run=True)
        assert (dry.applied, [line.outcome for line in dry.lines]) == (False, [services.LineOutcome.RECORDED])
        assert Reading.objects.count() == 1
        applied = self._import(operator, text)
        assert applied.applied
        assert applied.lines[0].number == 2
        reading = Reading.objects.get(period=Period(2026, 11))
        assert (reading.value, reading.channel, reading.read_on, reading.operator_name) == (
            Decimal("1300.5"),
            ReadingChannel.IMPORT,
            dt.date(2026, 11, 18),
            "Ольга Смирнова",
        )
        again = self._import(operator, text)
        assert [line.outcome for line in again.lines] == [services.LineOutcome.UNCHANGED]
        assert Reading.objects.count() == 2
        assert AuditRecord.objects.filter(action="readings_import").count() == 2

    def test_whole_or_valid_lines_never_half(self, meter: Meter, operator: User) -> None:
        text = (
            "Поставщик,Лицевой счёт,Заводской номер,Показание,Дата\n"
            "gaz-msk,770000000001,0412345,1300,2026-11-18\n"
            "gaz-msk,770000000001,нет-такого,1300,2026-11-18\n"
            "nobody,770000000001,0412345,1300,2026-11-18\n"
            "gaz-msk,770000000009,0412345,1300,2026-11-18\n"
            "gaz-msk,770000000001,0412345,abc,2026-11-18\n"
            "gaz-msk,770000000001,0412345,1301,31.11.2026\n"
            "gaz-msk,770000000001,0412345,1302,\n"
            "gaz-msk,770000000001,0412345,1303,2026-11-19\n"
        )
        whole = self._import(operator, text)
        assert not whole.applied
        assert Reading.objects.count() == 1
        assert next((line.number, line.outcome) for line in whole.lines) == (2, services.LineOutcome.RECORDED)
        assert [line.message for line in whole.errors] == [
            "На счёте 770000000001 нет счётчика № нет-такого",
            "Поставщик «nobody» не найден",
            "Лицевой счёт 770000000009 не найден у поставщика",
            "Введите показание цифрами, например 1234 или 1234,567",
            "Дата «31.11.2026» не распознана: пишите 05.11.2026 или 2026-11-05",
            "Не заполнено: date",
            "В файле уже есть показание этого счётчика за ноябрь 2026 (строка 2)",
        ]
        valid = self._import(operator, text, mode=services.ImportMode.VALID_LINES)
        assert valid.applied
        assert valid.count(services.LineOutcome.RECORDED) == 1
        assert Reading.objects.get(period=Period(2026, 11)).value == Decimal("1300")

    def test_windows_1251_and_bad_files(self, meter: Meter, operator: User) -> None:
        text = "Поставщик;Лицевой счёт;Заводской номер;Показание;Дата\ngaz-msk;770000000001;0412345;1300;18.11.2026\n"
        assert self._import(operator, text, encoding="cp1251").applied
        with pytest.raises(services.ImportFileInvalid, match="нет столбцов"):
            self._import(operator, "a;b;c\n1;2;3\n")
        assert self._import(operator, text.replace("1300", "1301"), encoding="utf-16").applied
        for bad, message in [
            ("", "Файл пуст"),
            ("supplier;account;serial;value;date\n", "только заголовок"),
            ('supplier;account;serial;value;date\n"' + "x" * 200_000 + "\n", "Строка 2 не читается как CSV"),
        ]:
            with pytest.raises(services.ImportFileInvalid, match=message):
                self._import(operator, bad)
        with pytest.raises(services.ImportFileInvalid, match="сохраните его из таблицы как CSV"):
            services.readings_import(
                operator=operator,
                content=b"PK\x03\x04\x00\x00",
                mode=services.ImportMode.WHOLE,
                dry_run=False,
                now=IN_WINDOW,
            )
        with pytest.raises(services.ImportFileInvalid):
            services.readings_import(
                operator=operator,
                content=b"\xff\xfe\x00\x81",
                mode=services.ImportMode.WHOLE,
                dry_run=False,
                now=IN_WINDOW,
            )
