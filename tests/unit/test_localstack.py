from deploy.localstack import kafka_cluster_id


def test_kafka_cluster_ids_never_look_like_an_option():
    ids = {kafka_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)
