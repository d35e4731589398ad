import json

import pytest
from django.core.management import CommandError, call_command

from chronicle.developments import commands
from chronicle.developments.models import PublicDevelopment, PublicRevision
from chronicle.eventstore.models import Event
from tests.factories import content_data

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
    assert "loaded 2 developments — 2 new, 0 updated, 0 unchanged" in capsys.readouterr().out
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


def test_the_seed_beltelecom_5g_entry_keeps_its_bands_peak_and_source():
    call_command("load_chronicle", str(SEED))
    entry = PublicDevelopment.objects.get(slug="beltelecom-5g-network-tests-2021")
    text = json.dumps(entry.content, ensure_ascii=False)
    for fact in ("3.6 GHz", "700 MHz", "1.235"):
        assert fact in text
    assert entry.date == "2021"
    assert entry.content["sources"]
    assert set(entry.country_rows.values_list("code", flat=True)) >= {"BY"}
