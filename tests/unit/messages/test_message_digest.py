"""The daily digest (每日待办摘要): when it is due, what goes into each person's, its words, and its settings."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shared.directory import Account
from shared.errors import InvalidInput
from shared.policy import OfficePolicy, PolicyBook
from services.messages.domain.digest import (
    LiveNotice,
    OpenCase,
    compose_digest,
    digest_day,
    digest_draft,
    relevant_by_unit,
)
from services.messages.domain.model import message_id_for
from services.messages.domain.rules import DigestBook, DigestSettings, load_rules, parse_digest, parse_rules

BEIJING = ZoneInfo("Asia/Shanghai")
OFFICE, OTHER_OFFICE = "巴中市人民政府教育督导委员会办公室", "平昌县人民政府教育督导室"
BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"
MONDAY = date(2026, 11, 2)  # 10-28 (Wed) is 3 working days before it; 11-05 (Thu) the last day of a 3-day window

ZHAO = Account("zhao", 1, True, BAZHOU, ("unit_handler",), "赵伟", "13812341234", "zhao@bazhou.example.cn")
QIAN = Account("qian", 1, True, BAZHOU, ("unit_leader",), "钱局长", None, "qian@bazhou.example.cn")
LIAISON = Account("ma", 1, True, BAZHOU, ("department_liaison",), "马联络员", None, "ma@bazhou.example.cn")
WANG = Account("wang", 1, True, OFFICE, ("office_staff",), "王科长", None, "wang@office.example.cn")
LIU = Account("liu", 1, True, OFFICE, ("inspector",), "刘督学", None, "liu@office.example.cn")
SUN = Account("sun", 1, True, ENYANG, ("unit_handler",), "孙经办", None, "sun@enyang.example.cn")

SOURCE = ("关于校园安全隐患整改的督办通知", "巴教督〔2026〕31号")
OVERDUE = OpenCase("n1:P1", "部分学校消防通道堵塞", BAZHOU, OFFICE, "2026-10-28", *SOURCE)
DUE_TODAY = OpenCase("n1:P2", "食堂从业人员健康证过期", BAZHOU, OFFICE, "2026-11-02", *SOURCE)
DUE_THURSDAY = OpenCase("n1:P3", "校车安全检查记录不全", BAZHOU, OFFICE, "2026-11-05", *SOURCE)
DUE_FRIDAY = OpenCase("n1:P4", "实验室危化品台账缺失", BAZHOU, OFFICE, "2026-11-06", *SOURCE)  # outside the window
FAR_OFF = OpenCase("n1:P5", "图书室藏书不足", BAZHOU, OFFICE, "2026-11-30", *SOURCE)
ENYANG_OVERDUE = OpenCase("n1:P6", "宿舍消防设施老化", ENYANG, OFFICE, "2026-10-30", *SOURCE)
CASES = [FAR_OFF, DUE_FRIDAY, DUE_THURSDAY, DUE_TODAY, OVERDUE, ENYANG_OVERDUE]

TO_SIGN = LiveNotice("n2", "关于开展春季开学检查的通知", OFFICE, (BAZHOU, ENYANG), (ENYANG,), "2026-11-04", "巴教督〔2026〕40号")
SIGN_LATE = LiveNotice("n3", "关于食品安全专项督导的通知", OFFICE, (BAZHOU, ENYANG), (), "2026-10-30")
ALL_SIGNED = LiveNotice("n4", "关于暑期安全的通知", OFFICE, (BAZHOU,), (BAZHOU,), "2026-10-20")
NOTICES = [TO_SIGN, SIGN_LATE, ALL_SIGNED]

DEFAULTS = load_rules().digest


def digest(person, cases=CASES, notices=NOTICES, book=DEFAULTS, policies=None, today=MONDAY):
    return compose_digest(person, today, cases, notices, book, policies or PolicyBook())


def ids(items) -> list[str]:
    return [getattr(item, "case_id", None) or item.notice_id for item in items]


class TestWhenTheDigestIsDue:
    def test_on_a_working_day_once_the_beijing_time_is_past_its_hour(self):
        assert digest_day(datetime(2026, 11, 2, 8, 0, tzinfo=BEIJING), time(8, 0)) == MONDAY
        assert digest_day(datetime(2026, 11, 2, 23, 59, tzinfo=BEIJING), time(8, 0)) == MONDAY

    def test_not_before_its_hour(self):
        assert digest_day(datetime(2026, 11, 2, 7, 59, 59, tzinfo=BEIJING), time(8, 0)) is None

    def test_the_hour_is_beijing_time_whatever_zone_the_clock_reads_in(self):
        # 2026-11-01 23:30 UTC is Monday 07:30 in Beijing: not yet; 00:30 UTC is 08:30: due, and the day is Monday
        assert digest_day(datetime(2026, 11, 1, 23, 30, tzinfo=ZoneInfo("UTC")), time(8, 0)) is None
        assert digest_day(datetime(2026, 11, 2, 0, 30, tzinfo=ZoneInfo("UTC")), time(8, 0)) == MONDAY

    def test_not_on_a_weekend_nor_a_statutory_holiday(self):
        assert digest_day(datetime(2026, 10, 31, 9, 0, tzinfo=BEIJING), time(8, 0)) is None  # Saturday
        assert digest_day(datetime(2026, 10, 5, 9, 0, tzinfo=BEIJING), time(8, 0)) is None  # 国庆, a Monday

    def test_on_a_make_up_workday(self):
        assert digest_day(datetime(2026, 10, 10, 9, 0, tzinfo=BEIJING), time(8, 0)) == date(2026, 10, 10)  # 调休 Saturday

    def test_not_on_a_day_past_every_calendar(self):
        assert digest_day(datetime(2100, 1, 4, 9, 0, tzinfo=BEIJING), time(8, 0)) is None


class TestWhatAUnitsHandlerIsTold:
    def test_the_units_overdue_cases_those_due_within_the_window_and_the_notices_it_has_not_signed(self):
        found = digest(ZHAO)
        assert ids(found.overdue) == ["n1:P1"]
        assert ids(found.due_soon) == ["n1:P2", "n1:P3"]  # by deadline; 11-06 is past the 3-working-day window
        assert ids(found.to_sign) == ["n3", "n2"]  # by 签收时限; n4 is signed
        assert found.unsigned_late == ()

    def test_the_subject_counts_what_is_due_under_the_units_name(self):
        assert digest(ZHAO).subject == "【每日待办】巴州区教育局：2项整改临近时限，1项已逾期，2份通知待签收"
        assert digest(ZHAO, notices=[]).subject == "【每日待办】巴州区教育局：2项整改临近时限，1项已逾期"
        assert digest(ZHAO, cases=[OVERDUE], notices=[]).subject == "【每日待办】巴州区教育局：1项整改已逾期"

    def test_the_body_lists_one_line_per_item_overdue_first_then_near_then_notices(self):
        body = digest(ZHAO).body
        lines = body.splitlines()
        assert lines[:2] == ["赵伟：", "截至2026年11月2日，巴州区教育局有以下事项需要办理。"]
        items = [line for line in lines if line[:1].isdigit()]
        source = "来源：《关于校园安全隐患整改的督办通知》（巴教督〔2026〕31号）"
        issuer = f"下发单位：{OFFICE}"
        assert items == [
            f"1. 部分学校消防通道堵塞——整改时限 2026-10-28，逾期3个工作日；责任单位：巴州区教育局；{source}",
            f"1. 食堂从业人员健康证过期——整改时限 2026-11-02（今日到期）；{source}",
            f"2. 校车安全检查记录不全——整改时限 2026-11-05；{source}",
            f"1. 《关于食品安全专项督导的通知》——签收时限 2026-10-30，已逾期1个工作日；{issuer}",
            f"2. 《关于开展春季开学检查的通知》（巴教督〔2026〕40号）——签收时限 2026-11-04；{issuer}",
        ]
        headings = [line for line in lines if line.endswith("：") and not line.startswith("赵伟")]
        assert headings == ["已逾期的整改（1项）：", "临近时限的整改（2项）：", "待签收的通知（2份）："]
        assert "恩阳区" not in body and "图书室藏书不足" not in body and "实验室危化品台账缺失" not in body

    def test_an_items_own_line_breaks_do_not_split_its_line(self):
        broken = OpenCase("n9:P1", "消防通道\n堵塞", BAZHOU, OFFICE, "2026-10-28")
        assert "1. 消防通道 堵塞——整改时限 2026-10-28，逾期3个工作日；责任单位：巴州区教育局" in digest(
            ZHAO, cases=[broken], notices=[]).body.splitlines()

    def test_the_units_leader_and_liaison_are_told_the_same(self):
        assert ids(digest(QIAN).overdue) == ids(digest(LIAISON).overdue) == ["n1:P1"]
        assert ids(digest(QIAN).to_sign) == ["n3", "n2"]

    def test_another_units_handler_is_told_only_of_its_own(self):
        found = digest(SUN)
        assert ids(found.overdue) == ["n1:P6"] and found.due_soon == ()
        assert ids(found.to_sign) == ["n3"]  # 恩阳区 signed n2 already
        assert found.subject == "【每日待办】恩阳区教育局：1项整改已逾期，1份通知待签收"


class TestWhatTheOfficeIsTold:
    def test_office_staff_get_the_overdue_cases_and_the_notices_unsigned_past_their_deadline_of_their_office(self):
        found = digest(WANG)
        assert ids(found.overdue) == ["n1:P1", "n1:P6"]
        assert found.due_soon == () and found.to_sign == ()  # near deadlines are the units' to mind
        assert ids(found.unsigned_late) == ["n3"]  # n2's 签收时限 is still ahead
        assert found.subject == f"【每日待办】{OFFICE}：2项整改已逾期，1份通知逾期未签收"
        assert "1. 《关于食品安全专项督导的通知》——签收时限 2026-10-30，逾期1个工作日；未签收单位：巴州区教育局、恩阳区教育局" \
            in found.body.splitlines()

    def test_staff_of_another_office_get_nothing_of_it(self):
        other = Account("zhou", 1, True, OTHER_OFFICE, ("office_staff",), "周科员", None, "zhou@pc.example.cn")
        assert digest(other) is None

    def test_inspectors_have_no_digest(self):
        assert digest(LIU) is None


class TestNoEmptyDigests:
    def test_nothing_due_means_no_digest(self):
        assert digest(ZHAO, cases=[FAR_OFF, DUE_FRIDAY], notices=[ALL_SIGNED]) is None

    def test_a_case_without_a_deadline_is_never_due(self):
        assert digest(ZHAO, cases=[OpenCase("n9:P1", "无时限事项", BAZHOU, OFFICE, None)], notices=[]) is None

    def test_a_disabled_account_or_one_without_a_unit_gets_none(self):
        assert digest(Account("old", 1, False, BAZHOU, ("unit_handler",), "已停用", None, "old@x.cn")) is None
        assert digest(Account("root", 1, True, None, ("unit_handler",), "无单位", None, "root@x.cn")) is None


class TestTheSettingsOfEachOffice:
    def test_the_window_is_the_offices_yellow_window_unless_the_digest_names_its_own(self):
        wide = PolicyBook(offices={OFFICE: OfficePolicy(yellow_within_working_days=4)})
        assert ids(digest(ZHAO, policies=wide).due_soon) == ["n1:P2", "n1:P3", "n1:P4"]
        own = DigestBook(default=DigestSettings(enabled=True, within_working_days=0))
        assert ids(digest(ZHAO, book=own, policies=wide).due_soon) == ["n1:P2"]  # due today only

    def test_an_office_that_turned_it_off_leaves_its_items_out(self):
        book = DigestBook(default=DigestSettings(enabled=True),
                          offices={OFFICE: DigestSettings(enabled=False)})
        mine = OpenCase("p1:P1", "平昌县事项", BAZHOU, OTHER_OFFICE, "2026-10-29")
        found = digest(ZHAO, cases=[OVERDUE, mine], book=book)
        assert ids(found.overdue) == ["p1:P1"] and found.to_sign == ()

    def test_an_office_may_leave_leaders_or_itself_out(self):
        book = DigestBook(default=DigestSettings(enabled=True, to=("handlers",)))
        assert digest(QIAN, book=book) is None and digest(WANG, book=book) is None
        assert digest(ZHAO, book=book) is not None


class TestTheEmail:
    def test_one_e_mail_per_person_per_day_linking_to_the_case_list(self):
        found = digest(ZHAO)
        draft = digest_draft(ZHAO, MONDAY, found)
        assert (draft.rule, draft.channel, draft.recipient, draft.address, draft.link, draft.occurrence) == (
            "digest", "email", "zhao", "zhao@bazhou.example.cn", "/cases", "2026-11-02")
        assert (draft.subject, draft.body, draft.recipient_name, draft.unit) == (found.subject, found.body, "赵伟", BAZHOU)
        assert draft.not_before is None  # e-mail is not held by quiet hours
        assert draft.message_id == message_id_for("digest", "zhao", "zhao", "email", "2026-11-02")
        # the same day again (another pass, another worker; even with more now due) is the same message
        assert digest_draft(ZHAO, MONDAY, digest(ZHAO, cases=[OVERDUE])).message_id == draft.message_id
        assert digest_draft(ZHAO, date(2026, 11, 3), found).message_id != draft.message_id
        assert digest_draft(QIAN, MONDAY, digest(QIAN)).message_id != draft.message_id


class TestEachUnitsShare:
    def test_cases_and_notices_go_to_their_units_and_their_issuer(self):
        shares = relevant_by_unit(CASES, NOTICES)
        assert ids(shares[BAZHOU][0]) == ["n1:P5", "n1:P4", "n1:P3", "n1:P2", "n1:P1"]
        assert ids(shares[BAZHOU][1]) == ["n2", "n3"]  # n4 is signed
        assert ids(shares[ENYANG][1]) == ["n3"]
        assert len(shares[OFFICE][0]) == len(CASES) and ids(shares[OFFICE][1]) == ["n2", "n3", "n4"]

    def test_composing_from_a_units_share_gives_what_composing_from_everything_does(self):
        for person in (ZHAO, QIAN, WANG, SUN):
            cases, notices = relevant_by_unit(CASES, NOTICES)[person.unit]
            assert digest(person, cases=cases, notices=notices) == digest(person)


class TestTheDigestSettings:
    def test_the_shipped_file_turns_it_on_at_eight_for_units_and_the_office(self):
        assert DEFAULTS.at == time(8, 0) and DEFAULTS.enabled_anywhere
        assert DEFAULTS.default == DigestSettings(enabled=True, within_working_days=None,
                                                  to=("handlers", "leaders", "office"))

    def test_without_a_digest_section_there_is_none(self):
        assert not parse_rules({}).digest.enabled_anywhere

    def test_an_office_overrides_only_the_keys_it_names_and_others_get_the_default(self):
        book = parse_digest({"enabled": True, "at": "07:30", "within_working_days": 2, "to": ["handlers", "office"],
                             "offices": {OFFICE: {"within_working_days": 5}, OTHER_OFFICE: {"enabled": False}}})
        assert book.at == time(7, 30)
        assert book.for_office(OFFICE) == DigestSettings(True, 5, ("handlers", "office"))
        assert book.for_office(OTHER_OFFICE) == DigestSettings(False, 2, ("handlers", "office"))
        assert book.for_office("另一个督导室") == book.for_office(None) == DigestSettings(True, 2, ("handlers", "office"))

    def test_one_office_alone_may_turn_it_on(self):
        book = parse_digest({"offices": {OFFICE: {"enabled": True}}})
        assert book.enabled_anywhere and not book.default.enabled

    def test_an_offices_own_file_amends_the_shipped_section(self, tmp_path):
        own = tmp_path / "rules.yaml"
        own.write_text(f"digest:\n  at: \"09:15\"\n  offices:\n    {OFFICE}:\n      to: [leaders]\n", encoding="utf-8")
        book = load_rules(str(own)).digest
        assert book.at == time(9, 15) and book.default == DEFAULTS.default
        assert book.for_office(OFFICE) == DigestSettings(True, None, ("leaders",))
        assert load_rules(str(own)).default == load_rules().default  # the rules themselves are the shipped ones

    def test_a_file_without_a_digest_section_keeps_the_shipped_one(self, tmp_path):
        own = tmp_path / "rules.yaml"
        own.write_text(f"offices:\n  {OFFICE}:\n    - id: only-inbox\n      events: [NoticeIssued]\n"
                       "      units: targets\n      to: [handlers]\n", encoding="utf-8")
        assert load_rules(str(own)).digest == DEFAULTS

    @pytest.mark.parametrize("section", [
        {"at": 480},  # what YAML makes of an unquoted 8:00
        {"at": "8 点"},
        {"enabled": "yes"},
        {"within_working_days": -1},
        {"within_working_days": True},
        {"to": ["inspectors"]},
        {"to": []},
        {"when": "daily"},
        {"offices": {OFFICE: {"at": "09:00"}}},  # one hour for everybody: a person gets one digest a day
        {"offices": {OFFICE: {"to": ["mayor"]}}},
        {"offices": [OFFICE]},
        "on",
    ])
    def test_a_setting_of_the_wrong_shape_is_refused(self, section):
        with pytest.raises(InvalidInput):
            parse_digest(section)
