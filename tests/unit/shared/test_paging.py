"""Pages newest first from rows bucketed by the day they were listed, reading days instead of the whole list."""
from datetime import date, datetime, timedelta, timezone

from shared.paging import DAYS_PER_SPAN, Bounds, all_of, bucket_fields, date_between, newest_first

START = datetime(2023, 1, 1, tzinfo=timezone.utc)


class Rows:
    """Rows listed ``per_day`` a day from 2023-01-01, answering bucket queries as the store would, counting them."""

    def __init__(self, n: int, per_day: int = 100, unit_of=lambda i: "巴州区"):
        self.rows = [{"_id": f"r{i:06d}", "unit": unit_of(i),
                      **bucket_fields(START + timedelta(days=i // per_day, seconds=i % per_day))} for i in range(n)]
        self.queries: list[tuple[str, int]] = []

    def fetch(self, equality=None):
        def query(field, number):
            self.queries.append((field, number))
            return [r for r in self.rows if r[field] == number and all(r[k] == v for k, v in (equality or {}).items())]
        return query

    @property
    def bounds(self):
        days = [r["list_day"] for r in self.rows]
        return Bounds(len(self.rows), min(days, default=None), max(days, default=None))


def ids(page):
    return [row["_id"] for row in page.rows]


def newest(n, count, step=1):
    return [f"r{i:06d}" for i in range(n - 1, n - 1 - count * step, -step)]


class TestUnfilteredLists:
    def test_the_first_page_is_the_newest_rows_from_one_query(self):
        rows = Rows(100_000)
        page = newest_first(rows.fetch(), rows.bounds, 0, 20, unfiltered=True)
        assert ids(page) == newest(100_000, 20)
        assert page.total == 100_000 and page.has_more
        assert len(rows.queries) == 1

    def test_a_page_across_a_day_reads_the_day_before_too(self):
        rows = Rows(110)
        page = newest_first(rows.fetch(), rows.bounds, 0, 20, unfiltered=True)
        assert ids(page) == newest(110, 20) and len(rows.queries) == 2

    def test_the_last_page_is_short_and_says_nothing_follows(self):
        rows = Rows(45, per_day=10)
        page = newest_first(rows.fetch(), rows.bounds, 40, 20, unfiltered=True)
        assert ids(page) == newest(5, 5) and not page.has_more and page.total == 45

    def test_an_empty_list_reads_nothing(self):
        rows = Rows(0)
        page = newest_first(rows.fetch(), rows.bounds, 0, 20, unfiltered=True)
        assert page.rows == [] and page.total == 0 and not page.has_more and rows.queries == []


class TestFilteredLists:
    def test_a_sparse_filter_switches_to_whole_spans_and_still_finds_every_row(self):
        rare = {7, 5_000, 60_001, 99_999}
        rows = Rows(100_000, unit_of=lambda i: "通江县" if i in rare else "巴州区")
        page = newest_first(rows.fetch({"unit": "通江县"}), rows.bounds, 0, 20)
        assert ids(page) == ["r099999", "r060001", "r005000", "r000007"]
        assert page.total == 4 and not page.has_more
        days = 100_000 // 100
        assert len(rows.queries) < days // 8, f"{len(rows.queries)} queries for {days} days"
        assert any(field == "list_span" for field, _ in rows.queries)

    def test_a_dense_filter_fills_the_page_without_counting_the_whole_list(self):
        rows = Rows(100_000, unit_of=lambda i: "通江县" if i % 2 else "巴州区")
        page = newest_first(rows.fetch({"unit": "通江县"}), rows.bounds, 0, 20)
        assert ids(page) == newest(100_000, 20, step=2)
        assert page.total is None and page.has_more
        assert len(rows.queries) == 1  # the total is out of cheap reach (1,000 days): nothing is read for it

    def test_a_long_filtered_list_reads_only_what_fills_its_page(self):
        rows = Rows(100_000, unit_of=lambda i: "通江县" if i % 250 == 0 else "巴州区")  # 2 rows in 5 days
        page = newest_first(rows.fetch({"unit": "通江县"}), rows.bounds, 0, 10)
        assert ids(page) == [f"r{i:06d}" for i in range(99_750, 97_250, -250)]
        assert page.total is None and page.has_more
        # six days, then the span under them holds the rest of the page; the 600 spans beyond are not read for a total
        assert [field for field, _ in rows.queries] == ["list_day"] * 6 + ["list_span"]

    def test_the_total_is_still_read_when_the_first_day_is_a_few_reads_away(self):
        rows = Rows(800, unit_of=lambda i: "通江县" if i % 5 == 0 else "巴州区")  # 8 days: the page fills on the first
        page = newest_first(rows.fetch({"unit": "通江县"}), rows.bounds, 0, 10)
        assert page.total == 160 and page.has_more and len(rows.queries) <= 8

    def test_a_small_filtered_list_gets_its_exact_total(self):
        rows = Rows(300, unit_of=lambda i: "通江县" if i % 3 == 0 else "巴州区")
        page = newest_first(rows.fetch({"unit": "通江县"}), rows.bounds, 0, 20)
        assert page.total == 100 and page.has_more and len(page.rows) == 20

    def test_checks_the_store_cannot_make_are_applied_to_the_rows_it_returns(self):
        rows = Rows(50, per_day=7)
        even = lambda row: int(row["_id"][1:]) % 2 == 0  # noqa: E731
        page = newest_first(rows.fetch(), rows.bounds, 0, 5, keep=even)
        assert ids(page) == newest(49, 5, step=2) and page.total == 25

    def test_every_row_appears_once_when_paging_through_a_filtered_list(self):
        rows = Rows(3 * DAYS_PER_SPAN * 20, per_day=20, unit_of=lambda i: "通江县" if i % 37 == 0 else "巴州区")
        seen, first = [], 0
        while True:
            page = newest_first(rows.fetch({"unit": "通江县"}), rows.bounds, first, 5)
            seen += ids(page)
            if not page.has_more:
                break
            first += 5
        assert seen == [f"r{i:06d}" for i in range(len(rows.rows) - 1, -1, -1) if i % 37 == 0]


def test_rows_of_one_moment_keep_a_fixed_order_by_id():
    same = bucket_fields(START)
    rows = [{"_id": "b", **same}, {"_id": "a", **same}, {"_id": "c", **same}]
    page = newest_first(lambda field, number: rows, Bounds(3, same["list_day"], same["list_day"]), 0, 3, unfiltered=True)
    assert ids(page) == ["c", "b", "a"]


def test_date_bounds_compare_iso_dates_and_leave_out_rows_without_one():
    within = date_between("deadline", date(2026, 3, 1), date(2026, 3, 31))
    assert within({"deadline": "2026-03-01"}) and within({"deadline": "2026-03-31"})
    assert not within({"deadline": "2026-04-01"}) and not within({"deadline": None}) and not within({})
    assert date_between("deadline", None, None) is None
    assert all_of(None, None) is None
    assert all_of(within, lambda row: row["unit"] == "x")({"deadline": "2026-03-02", "unit": "x"})
