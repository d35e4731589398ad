import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from chronicle.domain.errors import VersionConflict
from chronicle.eventstore import store
from chronicle.eventstore.models import Event
from chronicle.eventstore.store import NewEvent

METADATA = {"actor": {"id": "1", "username": "test"}, "origin": "command"}


def append(stream, expected, *types):
    return store.append(stream, expected, [NewEvent(type=t, data={"n": i}) for i, t in enumerate(types)], METADATA)


@pytest.mark.django_db
def test_appends_number_versions_and_positions_in_order():
    stream = uuid.uuid4()
    first = append(stream, 0, "a", "b")
    second = append(stream, 2, "c")
    assert [e.version for e in first + second] == [1, 2, 3]
    positions = [e.position for e in first + second]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert [e.type for e in store.read_stream(stream)] == ["a", "b", "c"]


@pytest.mark.django_db
def test_a_stale_expected_version_is_a_conflict_and_appends_nothing():
    stream = uuid.uuid4()
    append(stream, 0, "a")
    with pytest.raises(VersionConflict) as raised, transaction.atomic():
        append(stream, 0, "b")
    assert raised.value.expected == 0
    assert [e.type for e in store.read_stream(stream)] == ["a"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE eventstore_event SET type = 'tampered'",
        "UPDATE eventstore_event SET data = '{}' WHERE version = 1",
        "DELETE FROM eventstore_event",
        "DELETE FROM eventstore_event WHERE version = 1",
    ],
)
def test_the_database_rejects_update_and_delete_of_events(statement):
    stream = uuid.uuid4()
    append(stream, 0, "a")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert list(Event.objects.values_list("type", flat=True)) == ["a"]


@pytest.mark.django_db
def test_the_orm_cannot_change_an_event_either():
    event = Event.objects.get(position=append(uuid.uuid4(), 0, "a")[0].position)
    event.type = "tampered"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.all().delete()


@pytest.mark.django_db
def test_read_after_pages_through_the_log_in_position_order():
    streams = [uuid.uuid4() for _ in range(3)]
    for stream in streams:
        append(stream, 0, "a", "b")
    seen, cursor = [], 0
    while page := store.read_after(cursor, limit=4):
        seen += page
        cursor = page[-1].position
    assert [e.position for e in seen] == sorted(Event.objects.values_list("position", flat=True))
    assert [e.type for e in store.read_after(0, types=["b"])] == ["b", "b", "b"]


@pytest.mark.django_db
def test_iter_streams_yields_each_stream_whole_in_version_order():
    streams = [uuid.uuid4() for _ in range(3)]
    for stream in streams:
        append(stream, 0, "a")
    for stream in reversed(streams):
        append(stream, 1, "b")
    grouped = list(store.iter_streams(up_to_position=store.last_position(), chunk_size=2))
    assert sorted(group[0].stream_id for group in grouped) == sorted(streams)
    assert all([e.version for e in group] == [1, 2] for group in grouped)


@pytest.mark.postgres
def test_a_copied_batch_with_a_stale_version_appends_nothing_and_holds_no_other_writer_up(transactional_db):
    stream, other = uuid.uuid4(), uuid.uuid4()
    batch = [store.StreamAppend(other, 0, [NewEvent(type="a", data={})], METADATA)]
    store.append_copied([store.StreamAppend(stream, 0, [NewEvent(type="a", data={})], METADATA)])
    with pytest.raises(VersionConflict), transaction.atomic():
        store.append_copied([*batch, store.StreamAppend(stream, 0, [NewEvent(type="b", data={})], METADATA)])
    assert [e.type for e in store.read_stream(stream)] == ["a"]
    assert store.read_stream(other) == []
    appended = store.append_copied(batch)  # the append lock was let go
    assert [e.version for e in appended] == [1]
    assert [e.position for e in store.read_stream(other)] == [appended[0].position]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_stale_stream_among_many_is_the_one_the_conflict_names():
    fresh, stale = uuid.uuid4(), uuid.uuid4()
    append(stale, 0, "a", "b")
    batch = [
        store.StreamAppend(fresh, 0, [NewEvent(type="a", data={})], METADATA),
        store.StreamAppend(stale, 1, [NewEvent(type="c", data={})], METADATA),
    ]
    with pytest.raises(VersionConflict) as raised, transaction.atomic():
        store.append_streams(batch)
    assert raised.value.expected == 1
    assert store.read_stream(fresh) == []
    assert [e.type for e in store.read_stream(stale)] == ["a", "b"]


@pytest.mark.postgres
def test_an_append_that_fails_for_another_reason_holds_no_other_writer_up(transactional_db):
    first = append(uuid.uuid4(), 0, "a")[0]
    reused_id = NewEvent(type="b", data={}, event_id=first.event_id)  # event ids are unique too
    with pytest.raises(DatabaseError), transaction.atomic():
        store.append(uuid.uuid4(), 0, [reused_id], METADATA)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s), pg_advisory_unlock(%s)", [store.APPEND_LOCK_KEY] * 2)
        assert cursor.fetchone() == (True, True)
    assert [e.version for e in append(uuid.uuid4(), 0, "c")] == [1]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("expected", [2, 5])
def test_an_append_to_a_stream_behind_the_version_it_expects_leaves_no_hole(expected):
    """A writer that knew a later state than the log holds (a restore under a running process)
    is refused like a stale one, instead of appending after a hole."""
    stream = uuid.uuid4()
    append(stream, 0, "a")
    with pytest.raises(VersionConflict) as raised, transaction.atomic():
        append(stream, expected, "b")
    assert raised.value.expected == expected
    assert [e.version for e in store.read_stream(stream)] == [1]
