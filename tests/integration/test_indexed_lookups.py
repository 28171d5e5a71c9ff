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


def _psql(infra) -> list[str]:
    return [str(postgres_bin_dir() / "psql"), infra.postgres_url.replace("/ferretdb", "/ferretdb?sslmode=disable"),
            "-qAtc"]
