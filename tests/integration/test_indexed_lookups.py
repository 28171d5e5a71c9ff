"""On the real server the stack starts (FerretDB on PostgreSQL with the deploy step's GIN trigger)."""
import subprocess

import pytest

from deploy.localstack import postgres_bin_dir

from shared.mongo import connect_service_database
from shared.query_plans import (SMALL_COLLECTION, UnindexedQueries, check_lookups_are_indexed, declared_lookups,
                                scans_whole_collection, unindexed_lookups)
from services.followups.bootstrap import bootstrap as bootstrap_followups


def test_every_lookup_a_service_declares_is_served_by_an_index(settings):
    context = bootstrap_followups(settings)  # bootstrap itself refuses to start otherwise
    lookups = declared_lookups(context.database)
    assert {("events", "stream_id"), ("events", "published"), ("events", "_id"), ("case_view", "responsible_unit")} \
        <= {(lookup.collection, lookup.field) for lookup in lookups}
    assert unindexed_lookups(context.database) == []


def test_a_lookup_on_a_field_without_an_index_is_a_full_scan(settings):
    database = connect_service_database(settings, "probe")
    database["grows"].insert_one({"_id": "a", "unit": "巴州区"})
    assert scans_whole_collection(database.command("explain", {"find": "grows", "filter": {"unit": "巴州区"}}))
    assert not scans_whole_collection(database.command("explain", {"find": "grows", "filter": {"_id": "a"}}))


def test_without_the_deploy_steps_index_the_service_refuses_to_start_naming_the_lookup(settings, infra):
    if not infra.postgres_url:
        pytest.skip("the servers were not started by the test session on FerretDB/PostgreSQL")
    database = connect_service_database(settings, "probe2")
    database["grows"].create_index("unit")
    # a grown collection: a small one may rightly be read whole (see the next test)
    database["grows"].insert_many([{"unit": f"单位{n}"} for n in range(SMALL_COLLECTION)])
    check_lookups_are_indexed(database, "enforce")  # the trigger gave the index its GIN twin
    # What a FerretDB whose PostgreSQL lacks the deploy step's trigger would have: FerretDB's B-tree alone.
    psql = _psql(infra)
    twins = subprocess.run(psql + [f"SELECT indexname FROM pg_indexes WHERE schemaname = '{database.name}' "
                                   "AND indexname LIKE 'grows%unit%gin'"], capture_output=True, text=True, check=True)
    [twin] = twins.stdout.split()
    subprocess.run(psql + [f'DROP INDEX "{database.name}"."{twin}"'], check=True)

    with pytest.raises(UnindexedQueries, match=r"probe2\.grows \{unit: …\}"):
        check_lookups_are_indexed(database, "enforce")
    check_lookups_are_indexed(database, "warn")  # logs it and lets the service start


def test_a_small_analysed_collection_read_whole_does_not_stop_a_restart(settings, infra):
    # Once autovacuum has analysed the relay's one-row lease table, PostgreSQL reads its page instead of the
    # GIN index it has: a worker restarted then refused to start (CI, test_worker_crashes).
    if not infra.postgres_url:
        pytest.skip("the servers were not started by the test session on FerretDB/PostgreSQL")
    database = connect_service_database(settings, "probe3")
    database["relay_leases"].insert_one({"_id": "relay:notices", "owner": "worker-1"})
    table = subprocess.run(_psql(infra) + [f"SELECT tablename FROM pg_tables WHERE schemaname = '{database.name}' "
                                           "AND tablename LIKE 'relay_leases%'"], capture_output=True, text=True,
                           check=True).stdout.strip()
    subprocess.run(_psql(infra) + [f'ANALYZE "{database.name}"."{table}"'], check=True)
    explained = database.command("explain", {"find": "relay_leases", "filter": {"_id": "relay:notices"}})
    assert scans_whole_collection(explained), "PostgreSQL reads an analysed one-row table whole"

    check_lookups_are_indexed(database, "enforce")
    assert unindexed_lookups(database) == []


def test_ferretdbs_prepared_lookups_are_planned_with_their_field_so_the_index_serves_them(settings, infra):
    # FerretDB names the field as a parameter (`_jsonb->$1 @> $2`): a generic plan cannot use the expression
    # index and scans, and PostgreSQL may switch to one by itself. The deploy step makes the database plan each
    # execution with its parameters instead (plan_cache_mode), which every FerretDB session inherits.
    if not infra.postgres_url:
        pytest.skip("the servers were not started by the test session on FerretDB/PostgreSQL")
    database = connect_service_database(settings, "probe5")
    database["grows"].insert_many([{"_id": f"case-{n}", "unit": "巴州区"} for n in range(2 * SMALL_COLLECTION)])
    [table] = subprocess.run(_psql(infra) + [f"SELECT tablename FROM pg_tables WHERE schemaname = '{database.name}' "
                                             "AND tablename LIKE 'grows%'"], capture_output=True, text=True,
                             check=True).stdout.split()
    statement = (f'PREPARE lookup(text, jsonb) AS SELECT _jsonb FROM "{database.name}"."{table}" '
                 "WHERE _jsonb->$1 @> $2;")

    def plan(mode: str | None) -> str:
        script = (f'ANALYZE "{database.name}"."{table}"; {statement} '
                  + (f"SET plan_cache_mode = {mode}; " if mode else "")
                  + "EXPLAIN EXECUTE lookup('_id', '\"case-7\"');")
        return subprocess.run(_psql(infra)[:-1] + ["-qAt"], input=script, capture_output=True, text=True,
                              check=True).stdout

    assert "Seq Scan" in plan("force_generic_plan")  # what PostgreSQL may choose by itself
    assert subprocess.run(_psql(infra) + ["SHOW plan_cache_mode"], capture_output=True, text=True,
                          check=True).stdout.strip() == "force_custom_plan"
    default = plan(None)  # a new session, as FerretDB's pool opens them
    assert "Index Scan" in default and "Seq Scan" not in default, default


def _psql(infra) -> list[str]:
    return [str(postgres_bin_dir() / "psql"), infra.postgres_url.replace("/ferretdb", "/ferretdb?sslmode=disable"),
            "-qAtc"]
