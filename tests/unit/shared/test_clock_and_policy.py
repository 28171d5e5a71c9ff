import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from shared.clock import SHANGHAI, Clock, FixedClock, SystemClock
from shared.deadlines import DayKind, Period
from shared.errors import InvalidInput
from shared.policy import POLICY_FILE_ENV, OfficePolicy, PolicyBook, load_policy_book

BAZHONG = "巴中市教育督导室"


class TestSystemClock:
    def test_now_is_the_current_instant_in_utc(self):
        before = datetime.now(timezone.utc)
        now = SystemClock().now()
        assert now.utcoffset() == timedelta(0)
        assert before <= now <= datetime.now(timezone.utc)

    def test_today_is_the_date_in_shanghai(self):
        clock: Clock = SystemClock()
        assert clock.today() in {datetime.now(SHANGHAI).date(), (datetime.now(SHANGHAI) - timedelta(seconds=5)).date()}


class TestFixedClock:
    def test_today_is_the_shanghai_date_not_the_utc_date(self):
        clock = FixedClock(datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc))
        assert clock.now() == datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)
        assert clock.today() == date(2026, 11, 23)

    def test_now_is_always_given_in_utc(self):
        clock = FixedClock(datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI))
        assert clock.now().tzinfo == timezone.utc
        assert clock.now() == datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)

    def test_a_date_means_nine_in_the_morning_in_shanghai(self):
        clock = FixedClock(date(2026, 11, 23))
        assert clock.now() == datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
        assert clock.today() == date(2026, 11, 23)

    def test_advancing_moves_the_clock_and_can_cross_midnight_in_shanghai(self):
        clock = FixedClock(date(2026, 11, 23))
        assert clock.advance(hours=14, minutes=59) == datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc)
        assert clock.today() == date(2026, 11, 23)
        clock.advance(minutes=1)
        assert clock.today() == date(2026, 11, 24)
        clock.advance(days=7)
        assert clock.today() == date(2026, 12, 1)

    def test_set_puts_the_clock_at_a_datetime_or_a_date(self):
        clock = FixedClock(date(2026, 1, 1))
        clock.set(datetime(2020, 9, 30, 16, 0, tzinfo=timezone.utc))
        assert clock.today() == date(2020, 10, 1)
        clock.set(date(2020, 9, 30))
        assert clock.now() == datetime(2020, 9, 30, 1, 0, tzinfo=timezone.utc)

    def test_a_naive_datetime_is_refused_because_its_zone_would_be_a_guess(self):
        with pytest.raises(ValueError, match="naive"):
            FixedClock(datetime(2026, 11, 23, 9, 0))
        clock = FixedClock(date(2026, 11, 23))
        with pytest.raises(ValueError):
            clock.set(datetime(2026, 11, 23, 9, 0))
        assert clock.today() == date(2026, 11, 23)

    def test_advances_from_many_threads_are_not_lost(self):
        clock = FixedClock(date(2026, 1, 1))
        start = clock.now()

        def tick():
            for _ in range(1000):
                clock.advance(seconds=1)

        threads = [threading.Thread(target=tick) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert clock.now() - start == timedelta(seconds=8000)


class TestTheDefaultOfficePolicyFollowsThePublishedRules:
    def test_the_defaults(self):
        policy = OfficePolicy()
        assert policy.rectification_period == Period(30, DayKind.CALENDAR)
        assert policy.sign_for_period == Period(3, DayKind.WORKING)
        assert policy.yellow_within_working_days == 3
        assert policy.warning_after_working_days == 5
        assert policy.reinspection_period == Period(30, DayKind.CALENDAR)

    def test_a_policy_reads_back_what_it_writes(self):
        policy = OfficePolicy(sign_for_period=Period(2, DayKind.WORKING), warning_after_working_days=10)
        assert OfficePolicy().overridden(policy.to_dict()) == policy
        assert policy.to_dict()["sign_for_period"] == {"amount": 2, "kind": "working"}

    @pytest.mark.parametrize(
        "field, value",
        [("yellow_within_working_days", -1), ("warning_after_working_days", True), ("sign_for_period", 3)],
    )
    def test_a_policy_with_a_bad_value_is_refused_naming_the_field(self, field, value):
        with pytest.raises(InvalidInput) as caught:
            OfficePolicy(**{field: value})
        assert caught.value.details["field"] == field


class TestAPolicyBookGivesEachOfficeItsPolicy:
    def test_an_empty_book_gives_the_defaults_to_everyone(self):
        book = PolicyBook()
        assert book.for_office(BAZHONG) == OfficePolicy()
        assert book.for_office(None) == OfficePolicy()

    def test_an_office_override_changes_only_the_keys_it_gives(self):
        book = PolicyBook.from_mapping(
            {
                "default": {"rectification_period": {"amount": 20, "kind": "working"}, "yellow_within_working_days": 2},
                "offices": {BAZHONG: {"sign_for_period": {"amount": 2, "kind": "working"}}},
            }
        )
        bazhong = book.for_office(BAZHONG)
        assert bazhong.sign_for_period == Period(2, DayKind.WORKING)
        # Everything else comes from the book's default, not the built-in one.
        assert bazhong.rectification_period == Period(20, DayKind.WORKING)
        assert bazhong.yellow_within_working_days == 2
        assert bazhong.warning_after_working_days == 5

    def test_other_offices_and_no_office_get_the_books_default(self):
        book = PolicyBook.from_mapping(
            {"default": {"yellow_within_working_days": 1}, "offices": {BAZHONG: {"yellow_within_working_days": 4}}}
        )
        assert book.for_office(BAZHONG).yellow_within_working_days == 4
        assert book.for_office("巴州区教育局").yellow_within_working_days == 1
        assert book.for_office(None).yellow_within_working_days == 1

    def test_an_empty_mapping_or_none_gives_the_defaults(self):
        assert PolicyBook.from_mapping({}).for_office(BAZHONG) == OfficePolicy()
        assert PolicyBook.from_mapping(None).default == OfficePolicy()
        assert PolicyBook.from_mapping({"default": None, "offices": None}).default == OfficePolicy()

    def test_the_offices_of_a_book_cannot_be_changed_after_it_is_built(self):
        book = PolicyBook(offices={BAZHONG: OfficePolicy(yellow_within_working_days=1)})
        with pytest.raises(TypeError):
            book.offices["other"] = OfficePolicy()  # type: ignore[index]
        assert list(book.offices) == [BAZHONG]


class TestABadPolicyIsRefusedNamingTheKey:
    @pytest.mark.parametrize(
        "data, key",
        [
            ({"defaults": {}}, "defaults"),
            ({"default": {"yellow_days": 3}}, "default.yellow_days"),
            ({"default": {"yellow_within_working_days": "3"}}, "default.yellow_within_working_days"),
            ({"default": {"warning_after_working_days": -2}}, "default.warning_after_working_days"),
            ({"default": {"sign_for_period": 3}}, "default.sign_for_period"),
            ({"default": {"sign_for_period": {"amount": 3, "kind": "hours"}}}, "default.sign_for_period.kind"),
            ({"default": {"rectification_period": {"amount": -30}}}, "default.rectification_period.amount"),
            ({"offices": {BAZHONG: {"sign_for": 2}}}, f"offices.{BAZHONG}.sign_for"),
            (
                {"offices": {BAZHONG: {"sign_for_period": {"amount": 2, "days": "working"}}}},
                f"offices.{BAZHONG}.sign_for_period.days",
            ),
            ({"offices": [BAZHONG]}, "offices"),
            ({"offices": {"": {}}}, "offices"),
            ({"default": 3}, "default"),
        ],
    )
    def test_the_error_names_the_key(self, data, key):
        with pytest.raises(InvalidInput) as caught:
            PolicyBook.from_mapping(data)
        assert caught.value.details["field"] == key
        assert key in caught.value.message_en
        assert key in caught.value.message_zh

    def test_a_top_level_that_is_not_a_mapping_is_refused(self):
        with pytest.raises(InvalidInput):
            PolicyBook.from_mapping(["default"])


POLICY_YAML = f"""
default:
  rectification_period: {{amount: 15, kind: working}}
  warning_after_working_days: 3
offices:
  {BAZHONG}:
    sign_for_period:
      amount: 2
      kind: working
"""


class TestLoadingAPolicyBookFromYaml:
    def test_a_yaml_file_is_read(self, tmp_path):
        path = tmp_path / "policy.yaml"
        path.write_text(POLICY_YAML, encoding="utf-8")
        book = load_policy_book(str(path))
        assert book.default.rectification_period == Period(15, DayKind.WORKING)
        assert book.default.warning_after_working_days == 3
        assert book.for_office(BAZHONG).sign_for_period == Period(2, DayKind.WORKING)
        assert book.for_office(BAZHONG).rectification_period == Period(15, DayKind.WORKING)

    def test_without_a_path_the_environment_names_the_file(self, tmp_path, monkeypatch):
        path = tmp_path / "policy.yaml"
        path.write_text(POLICY_YAML, encoding="utf-8")
        monkeypatch.setenv(POLICY_FILE_ENV, str(path))
        assert load_policy_book().for_office(BAZHONG).sign_for_period == Period(2, DayKind.WORKING)

    def test_without_a_path_or_environment_the_defaults_apply(self, monkeypatch):
        monkeypatch.delenv(POLICY_FILE_ENV, raising=False)
        assert load_policy_book().for_office(BAZHONG) == OfficePolicy()

    def test_an_empty_file_gives_the_defaults(self, tmp_path):
        path = tmp_path / "empty.yaml"
        path.write_text("", encoding="utf-8")
        assert load_policy_book(str(path)).default == OfficePolicy()

    def test_a_file_with_an_unknown_key_is_refused_naming_it(self, tmp_path):
        path = tmp_path / "policy.yaml"
        path.write_text("default:\n  yelow_within_working_days: 2\n", encoding="utf-8")
        with pytest.raises(InvalidInput) as caught:
            load_policy_book(str(path))
        assert caught.value.details["field"] == "default.yelow_within_working_days"

    def test_a_file_that_is_not_yaml_is_refused(self, tmp_path):
        path = tmp_path / "policy.yaml"
        path.write_text("default: [unclosed\n", encoding="utf-8")
        with pytest.raises(InvalidInput) as caught:
            load_policy_book(str(path))
        assert str(path) in caught.value.message_en

    def test_a_missing_file_is_an_error_not_the_defaults(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            load_policy_book(str(tmp_path / "missing.yaml"))
