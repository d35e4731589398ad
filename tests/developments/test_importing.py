import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, transaction

from chronicle.developments import commands, importing, projections
from chronicle.developments.models import PublicDevelopment, PublicRevision
from chronicle.eventstore.models import Event
from chronicle.feeds import tasks as feed_tasks
from chronicle.feeds.models import FeedState
from tests.factories import content_data
from tests.services import ROOT, shared_database_url, tail_the_log, worker_environment

pytestmark = pytest.mark.django_db


def import_file(tmp_path, *records, name="import.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "chronicle-import/1", "developments": list(records)}))
    return path


def record(key="beltelecom-5g-2021", **overrides):
    return {"key": key, **content_data(**overrides)}


def test_a_file_loads_as_published_developments_by_the_import_actor(tmp_path, capsys):
    path = import_file(tmp_path, record(), record("second-record", title="Second"))
    call_command("load_chronicle", str(path))
    assert "loaded 2 developments — 2 new, 0 corrected, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert PublicDevelopment.objects.count() == 2
    types = list(
        Event.objects.filter(stream_id=commands.development_id_for("second-record")).values_list("type", flat=True)
    )
    assert types == ["development.drafted", "development.submitted", "development.published"]
    assert {e.metadata["actor"]["username"] for e in Event.objects.all()} == {"chronicle-import"}
    assert {e.metadata["origin"] for e in Event.objects.all()} == {"fixture"}


def test_a_second_load_appends_nothing_and_says_so(tmp_path, capsys):
    path = import_file(tmp_path, record())
    call_command("load_chronicle", str(path))
    count = Event.objects.count()
    call_command("load_chronicle", str(path))
    assert Event.objects.count() == count
    assert "nothing to do; all 1 developments are already up to date" in capsys.readouterr().out


def test_a_changed_record_is_published_as_an_update(tmp_path):
    call_command("load_chronicle", str(import_file(tmp_path, record())))
    call_command("load_chronicle", str(import_file(tmp_path, record(stage="implemented"), name="v2.json")))
    development = PublicDevelopment.objects.get()
    assert development.stage == "implemented"
    assert list(PublicRevision.objects.values_list("kind", flat=True)) == ["published", "updated"]
    assert "v2.json" in PublicRevision.objects.get(kind="updated").note


def test_a_changed_record_with_a_correction_note_is_published_as_a_correction(tmp_path, capsys):
    call_command("load_chronicle", str(import_file(tmp_path, record(title="Beltelecom tests 5G with ZTE"))))
    corrected = record(correction_note="  The supplier was Huawei, not ZTE. ")
    call_command("load_chronicle", str(import_file(tmp_path, corrected, name="v2.json")))
    assert "1 corrected, 0 updated" in capsys.readouterr().out
    development = PublicDevelopment.objects.get()
    assert development.title == "Beltelecom tests 5G with Huawei"
    revisions = list(PublicRevision.objects.values_list("kind", "note"))
    assert revisions == [("published", ""), ("corrected", "The supplier was Huawei, not ZTE.")]
    assert "correction_note" not in development.content


def test_a_correction_note_on_a_new_or_unchanged_record_is_reported_not_applied(tmp_path, capsys):
    noted = record(correction_note="Nothing was wrong.")
    call_command("load_chronicle", str(import_file(tmp_path, noted)))
    assert "beltelecom-5g-2021: correction_note not applied" in capsys.readouterr().out
    count = Event.objects.count()
    call_command("load_chronicle", str(import_file(tmp_path, noted)))
    out = capsys.readouterr().out
    assert "beltelecom-5g-2021: correction_note not applied" in out
    assert "nothing to do" in out
    assert Event.objects.count() == count
    assert list(PublicRevision.objects.values_list("kind", flat=True)) == ["published"]


def test_a_blank_or_bad_correction_note_is_named_and_loads_nothing(tmp_path):
    path = import_file(tmp_path, record(correction_note="   "), record("other-record", correction_note="a\x07b"))
    with pytest.raises(CommandError):
        call_command("load_chronicle", str(path))
    with pytest.raises(importing.ImportFileInvalid) as invalid:
        importing.read_import_file(path)
    messages = [str(error) for error in invalid.value.errors]
    assert len(messages) == 2
    assert messages[0].startswith("record 0 (beltelecom-5g-2021): correction_note:")
    assert messages[1].startswith("record 1 (other-record): correction_note:")
    assert Event.objects.count() == 0


def test_a_file_with_errors_loads_nothing_and_names_every_bad_record(tmp_path):
    path = import_file(
        tmp_path,
        record(),
        record("bad-country", countries=["XX"]),
        record("bad-date", date="2021-13-01"),
        {"key": "no-title", **{k: v for k, v in content_data().items() if k != "title"}},
        record("beltelecom-5g-2021"),
    )
    with pytest.raises(CommandError, match="nothing was loaded") as raised:
        call_command("load_chronicle", str(path))
    assert "problem" in str(raised.value)
    assert not Event.objects.exists()


def test_record_level_messages_carry_index_key_and_reason(tmp_path):
    from chronicle.developments import importing

    path = import_file(
        tmp_path,
        record(),
        record("bad-country", countries=["XX"]),
        record("bad-date", date="2021-13-01"),
        record("beltelecom-5g-2021"),
    )
    with pytest.raises(importing.ImportFileInvalid) as raised:
        importing.read_import_file(path)
    messages = [str(error) for error in raised.value.errors]
    assert any(m.startswith("record 1 (bad-country): countries") and "XX" in m for m in messages), messages
    assert any(m.startswith("record 2 (bad-date): date") and "month 13" in m for m in messages), messages
    assert any(m.startswith("record 3 (beltelecom-5g-2021)") and "already used by record 0" in m for m in messages)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "not valid JSON"), ('{"developments": 3}', '"developments" list'), ("[]", '"developments" list')],
)
def test_a_malformed_file_is_rejected_with_a_clear_message(tmp_path, text, message):
    from chronicle.developments import importing

    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(importing.ImportFileInvalid) as raised:
        importing.read_import_file(path)
    assert message in str(raised.value.errors[0])


SEED = commands.settings.BASE_DIR / "fixtures" / "seed_chronicle.json"


def test_the_seed_chronicle_loads_and_publishes_every_record_once(capsys):
    records = json.loads(SEED.read_text())["developments"]
    call_command("load_chronicle", str(SEED))
    assert PublicDevelopment.objects.filter(status="published").count() == len(records)
    events = Event.objects.count()
    assert events == 3 * len(records)
    call_command("load_chronicle", str(SEED))
    assert Event.objects.count() == events
    assert "nothing to do" in capsys.readouterr().out


def test_the_seed_beltelecom_5g_tests_keep_their_bands_peak_sources_and_link(client):
    call_command("load_chronicle", str(SEED))
    great_stone = PublicDevelopment.objects.get(slug="beltelecom-5g-network-tests-2021")
    kopylsky = PublicDevelopment.objects.get(slug="beltelecom-5g-test-kopylsky-2021")
    for entry, facts in ((great_stone, ("3.6 GHz", "1.235")), (kopylsky, ("700 MHz",))):
        text = json.dumps(entry.content, ensure_ascii=False)
        assert all(fact in text for fact in facts)
        assert entry.date == "2021" and entry.content["sources"]
        assert set(entry.country_rows.values_list("code", flat=True)) >= {"BY"}
    page = client.get("/developments/beltelecom-5g-test-kopylsky-2021/").content.decode()
    assert '<a href="/developments/beltelecom-5g-network-tests-2021/">' in page


def test_the_seed_figures_load_with_their_qualifiers_and_periods(client):
    call_command("load_chronicle", str(SEED))
    trade = PublicDevelopment.objects.get(slug="by-cn-trade-volume-2015-2024")
    assert trade.kind == "indicator"
    assert trade.content["amounts"] == [
        {
            "value": "8400000000",
            "currency": "USD",
            "measures": "Belarus–China trade volume",
            "qualifier": "more-than",
            "period": "2024",
        }
    ]
    assert (
        "<li>more than $8.4 billion — Belarus–China trade volume, 2024</li>"
        in client.get("/?kind=indicator").content.decode()
    )


def test_records_of_the_wrong_shape_or_with_bad_text_are_named_by_record_and_field(tmp_path, capsys):
    path = import_file(
        tmp_path,
        record(),
        record(
            "wrong-types",
            kind=["treaty"],
            topics=[["5g"]],
            amounts=[{"value": "1", "currency": 840, "measures": "loan"}],
            places=[{"name": "Minsk", "country": True}],
        ),
        record("control-character", title="Beltelecom\x00 tests 5G"),
        record("lone-surrogate", actors=[{"name": "Huawei\ud800", "role": "supplier"}]),
        record("long-summary", summary="x" * 100_000),
        record("kept-as-written", title="<script>alert(1)</script> \u200fБелтелеком 🇧🇾"),
    )
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_chronicle", str(path))
    messages = capsys.readouterr().err.splitlines()
    expected = [
        "record 1 (wrong-types): kind: “['treaty']” is not one of",
        "record 1 (wrong-types): topics: “['5g']” is not a known topic.",
        "record 1 (wrong-types): amounts[1].currency: “840” is not an ISO 4217 currency code.",
        "record 1 (wrong-types): places[1].country: “True” is not an ISO 3166-1 alpha-2 code.",
        "record 2 (control-character): title: contains a control character (U+0000) at character 11; remove it.",
        "record 3 (lone-surrogate): actors[1].name: contains a lone surrogate (U+D800), which is not a character",
        "record 4 (long-summary): summary: is 100000 characters long; the limit is 5000.",
    ]
    for start in expected:
        assert any(message.strip().startswith(start) for message in messages), (start, messages)
    assert not any("record 0 " in message or "record 5 " in message for message in messages), messages
    assert not Event.objects.exists()


def test_a_number_too_long_to_read_is_a_clear_message_not_a_traceback(tmp_path):
    from chronicle.developments import importing

    path = tmp_path / "long-number.json"
    path.write_text('{"format": "chronicle-import/1", "developments": [{"key": "x", "lat": ' + "9" * 5000 + "}]}")
    with pytest.raises(importing.ImportFileInvalid) as raised:
        importing.read_import_file(path)
    assert "is not valid JSON" in str(raised.value.errors[0]) and "digits" in str(raised.value.errors[0])


def test_related_keys_name_records_of_the_file_or_recorded_developments(tmp_path):
    from chronicle.developments import importing

    call_command("load_chronicle", str(import_file(tmp_path, record("treaty-2015"), name="first.json")))
    path = import_file(
        tmp_path,
        record("treaty-in-force", related=["treaty-2015", "trade-2024"]),
        record("trade-2024", kind="indicator", related=["treaty-in-force"]),
        record("polonez", related=["polonez", "no-such-record"]),
    )
    with pytest.raises(importing.ImportFileInvalid) as raised:
        importing.read_import_file(path)
    assert [str(error) for error in raised.value.errors] == [
        "record 2 (polonez): related: a record cannot be related to itself.",
        "record 2 (polonez): related: “no-such-record” is neither a record of this file nor a recorded development.",
    ]


def test_related_links_context_figures_and_date_basis_load_once_and_show_on_both_pages(tmp_path, client):
    path = import_file(
        tmp_path,
        record("landing", kind="context", date="2021-05?", date_basis="inferred", related=["statement"]),
        record("statement", kind="statement", date="../2021-06-30", date_basis="bounded"),
        record("trade-2024", kind="indicator", date="2024", date_basis="given"),
    )
    call_command("load_chronicle", str(path))
    events = Event.objects.count()
    call_command("load_chronicle", str(path))
    assert Event.objects.count() == events
    landing = PublicDevelopment.objects.get(slug="landing")
    assert (landing.kind, landing.content["date_basis"], landing.content["related"]) == (
        "context",
        "inferred",
        ["statement"],
    )
    assert 'href="/developments/landing/"' in client.get("/developments/statement/").content.decode()
    assert PublicDevelopment.objects.get(slug="statement").date_latest.isoformat() == "2021-06-30"


def test_progress_in_a_log_is_a_line_every_few_seconds_not_a_bar(tmp_path, monkeypatch):
    import io

    monkeypatch.setattr("chronicle.progress.LOG_INTERVAL_SECONDS", 0)
    log = io.StringIO()  # not a terminal, like a log file
    call_command("load_chronicle", str(import_file(tmp_path, record(), record("second-record"))), stderr=log)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[-1].startswith("2 of 2 (100%) records")


# -- batches: an interrupted run resumes; a second run appends nothing ----------------------


def outcome_of_the_import():
    """What an import leaves, without what differs between any two runs (ids of commands,
    positions, times): events, read models, and the feeds queued for regeneration."""
    changing = {"position", "last_public_position", "recorded_at", "updated_at", "created_at", "last_changed_at"}
    changing |= {"first_published_at", "id"}
    events = [
        (e.stream_id, e.version, e.type, e.data, {k: v for k, v in e.metadata.items() if k != "causation_id"})
        for e in Event.objects.order_by("stream_id", "version")
    ]
    read_models = {
        model._meta.db_table: sorted(
            (sorted((k, repr(v)) for k, v in row.items() if k not in changing) for row in model.objects.values()),
        )
        for model in projections.READ_MODELS
    }
    return events, read_models, sorted(FeedState.objects.filter(queued=True).values_list("path", flat=True))


@pytest.fixture
def feeds_sent(monkeypatch):
    sent = []
    monkeypatch.setattr(feed_tasks.regenerate_feed, "apply_async", lambda args, **options: sent.append(args[0]))
    return sent


def five_records(tmp_path):
    countries = (["BY"], ["CN"], ["RU"], ["BY", "RU"], ["KZ"])
    topics = (["5g"], ["trade"], ["iptv"], ["5g"], ["postal"])
    return import_file(
        tmp_path,
        *(record(f"record-{n}", countries=c, topics=t) for n, (c, t) in enumerate(zip(countries, topics, strict=True))),
    )


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_import_resumes_says_so_and_ends_as_one_uninterrupted_run(
    tmp_path, monkeypatch, capsys, feeds_sent, django_capture_on_commit_callbacks
):
    path = five_records(tmp_path)
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    commands.system_user(importing.IMPORT_ACTOR)  # the same actor in both runs
    with transaction.atomic():  # one uninterrupted run, then undone
        with django_capture_on_commit_callbacks(execute=True):
            call_command("load_chronicle", str(path))
        uninterrupted, uninterrupted_feeds = outcome_of_the_import(), sorted(set(feeds_sent))
        transaction.set_rollback(True)
    assert len(uninterrupted[0]) == 15
    capsys.readouterr()
    feeds_sent.clear()

    # The connection is lost once the second batch has written its events.
    insert_new = projections.insert_new
    calls = []

    def lost_on_the_second_batch(projected):
        calls.append(projected)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        insert_new(projected)

    monkeypatch.setattr(projections, "insert_new", lost_on_the_second_batch)
    with pytest.raises(OperationalError):
        call_command("load_chronicle", str(path))
    assert "stopped after 2 of 5 records; those stay loaded" in capsys.readouterr().err
    assert Event.objects.count() == 6  # the first batch, whole; nothing of the second
    assert PublicDevelopment.objects.count() == 2

    monkeypatch.setattr(projections, "insert_new", insert_new)
    call_command("load_chronicle", str(path))
    out = capsys.readouterr().out
    assert "resuming: 2 of 5 records already in the log, continuing" in out
    assert (
        "loaded 5 developments — 3 new, 0 corrected, 0 updated, 2 unchanged (2 of them loaded by an earlier run" in out
    )
    assert outcome_of_the_import() == uninterrupted
    assert sorted(set(feeds_sent)) == uninterrupted_feeds


def test_a_file_that_grew_since_it_was_loaded_is_not_taken_for_a_resumed_run(tmp_path, capsys):
    call_command("load_chronicle", str(import_file(tmp_path, record("first-record"), name="v1.json")))
    call_command("load_chronicle", str(import_file(tmp_path, record("first-record"), record("second-record"))))
    out = capsys.readouterr().out
    assert "resuming" not in out
    assert "loaded 2 developments — 1 new, 0 corrected, 0 updated, 1 unchanged." in out


def test_a_second_run_appends_nothing_says_so_and_reads_the_log_by_the_batch(
    tmp_path, monkeypatch, capsys, django_assert_max_num_queries
):
    monkeypatch.setattr(importing, "BATCH_SIZE", 25)
    path = import_file(tmp_path, *(record(f"record-{n}") for n in range(100)))
    # A few statements a batch (four batches; with the feeds to mark and the webhook check), none a record.
    with django_assert_max_num_queries(6 + 4 * 13):
        call_command("load_chronicle", str(path))
    events = Event.objects.count()
    capsys.readouterr()
    with django_assert_max_num_queries(6 + 4 * 3):
        call_command("load_chronicle", str(path))
    assert Event.objects.count() == events == 300
    out = capsys.readouterr().out
    assert "nothing to do; all 100 developments are already up to date" in out
    assert "resuming" not in out


def test_records_cut_anywhere_by_the_reading_chunks_load_as_written(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_CHARACTERS", 7)
    records = [
        record("first-record", places=[{"name": "Minsk", "country": "BY", "lat": 53.912345, "lon": 27.5}]),
        record("second-record", title="Белтелеком \u2014 “5G” tests", summary="Line one\nline two"),
    ]
    path = tmp_path / "spaced.json"
    path.write_text(json.dumps({"developments": records, "format": "chronicle-import/1"}, indent=3, ensure_ascii=False))
    loaded = list(importing.read_import_file(path))
    assert [r.key for r in loaded] == ["first-record", "second-record"]
    assert loaded[0].content.places[0].lat == 53.912345
    assert loaded[1].content.title == "Белтелеком — “5G” tests"
    assert loaded[1].content.summary == "Line one\nline two"


def test_a_file_with_a_key_twice_at_the_top_is_read_as_json_reads_it(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text(
        '{"format": "chronicle-import/1", "developments": [], "developments": ' + json.dumps([record()]) + "}"
    )
    assert [r.key for r in importing.read_import_file(path)] == ["beltelecom-5g-2021"]


@pytest.mark.postgres
def test_a_tailing_reader_sees_every_event_of_imports_and_commands_writing_together(transactional_db, tmp_path):
    commands.system_user(importing.IMPORT_ACTOR)  # created up front: the processes must not race on it
    files = [
        import_file(tmp_path, *(record(f"import-{n}-{i}") for i in range(40)), name=f"import-{n}.json")
        for n in range(3)
    ]
    writers = [f"writer-{n}" for n in range(2)]
    for name in writers:
        commands.system_user(name)
    env = worker_environment({"DATABASE_URL": shared_database_url()})
    processes = [
        subprocess.Popen([sys.executable, "-m", "tests.developments.importer", str(path), "4"], cwd=ROOT, env=env)
        for path in files
    ] + [
        subprocess.Popen([sys.executable, "-m", "tests.eventstore.writer", name, "20"], cwd=ROOT, env=env)
        for name in writers
    ]
    expected = 3 * 40 * 3 + 2 * 20 * 2
    seen = tail_the_log(processes, expected)
    assert [process.wait() for process in processes] == [0] * len(processes)
    committed = list(Event.objects.order_by("position").values_list("position", flat=True))
    assert len(committed) == expected
    assert seen == committed  # every committed event, once each, in position order


@pytest.mark.parametrize(
    "text",
    [
        '{"format": "chronicle-import/1", "developments": [RECORD,]}',
        '{"format": "chronicle-import/1", "developments": [RECORD],}',
        '{"format": "chronicle-import/1", "developments": [RECORD]} {}',
        '{"format": "chronicle-import/1", "developments": [RECORD RECORD]}',
    ],
)
def test_json_that_json_refuses_is_refused_whatever_the_layout(tmp_path, text):
    path = tmp_path / "broken.json"
    path.write_text(text.replace("RECORD", json.dumps(record())))
    with pytest.raises(importing.ImportFileInvalid) as raised:
        importing.read_import_file(path)
    assert "is not valid JSON" in str(raised.value.errors[0])


def test_ctrl_c_during_an_import_says_how_far_it_got_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    insert_new = projections.insert_new
    calls = []

    def interrupted_on_the_second_batch(projected):
        calls.append(projected)
        if len(calls) == 2:
            raise KeyboardInterrupt
        insert_new(projected)

    monkeypatch.setattr(projections, "insert_new", interrupted_on_the_second_batch)
    with pytest.raises(SystemExit) as stopped:
        call_command("load_chronicle", str(five_records(tmp_path)))
    assert stopped.value.code == 130
    assert "stopped after 2 of 5 records; those stay loaded. Run the same command again" in capsys.readouterr().err
    assert PublicDevelopment.objects.count() == 2
