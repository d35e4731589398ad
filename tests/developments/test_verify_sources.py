"""verify_sources against a small document set written for these tests (sources/)."""

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from chronicle.developments.models import PublicDevelopment

SOURCES = Path(__file__).parent / "sources"


@pytest.fixture
def corpus(tmp_path):
    """A copy of the test documents and their chronicle, to break one thing at a time."""
    shutil.copytree(SOURCES / "documents", tmp_path / "documents")
    chronicle = tmp_path / "chronicle.json"
    shutil.copy(SOURCES / "chronicle.json", chronicle)
    return tmp_path / "documents", chronicle


def edit(chronicle, key, change):
    data = json.loads(chronicle.read_text())
    record = next(r for r in data["developments"] if r["key"] == key)
    change(record)
    chronicle.write_text(json.dumps(data))


def verify(documents, chronicle):
    call_command("verify_sources", str(documents), "--chronicle", str(chronicle))


def test_a_faithful_chronicle_passes_and_says_what_was_checked(corpus, capsys):
    verify(*corpus)
    out = capsys.readouterr().out
    assert "checked 2 records and 4 sources against 2 documents" in out
    assert "3 quotes" in out and "4 locators" in out and "2 amounts" in out
    assert "0 problem(s)" in out


def test_a_quote_that_is_not_verbatim_fails(corpus, capsys):
    documents, chronicle = corpus
    edit(
        chronicle,
        "harbour-fibre-link-opens-2021",
        lambda r: r["sources"][0].update(quote="the link opened on 15 September 2021"),
    )
    with pytest.raises(CommandError, match="1 problem"):
        verify(documents, chronicle)
    assert "quote not verbatim in harbour-report.txt" in capsys.readouterr().err


def test_a_number_its_documents_do_not_write_fails(corpus, capsys):
    documents, chronicle = corpus
    edit(chronicle, "harbour-fibre-agreement-2019", lambda r: r.update(summary=r["summary"] + " It cost $90 million."))
    with pytest.raises(CommandError):
        verify(documents, chronicle)
    assert "harbour-fibre-agreement-2019: the number 90 is in none of its documents" in capsys.readouterr().err


def test_an_amount_its_documents_do_not_write_fails(corpus, capsys):
    documents, chronicle = corpus
    edit(chronicle, "harbour-fibre-link-opens-2021", lambda r: r["amounts"][0].update(value="76000000"))
    with pytest.raises(CommandError):
        verify(documents, chronicle)
    assert "the amount 76000000 USD is in none of its documents" in capsys.readouterr().err


def test_a_locator_naming_a_missing_document_or_section_fails(corpus, capsys):
    documents, chronicle = corpus

    def move(record):
        record["sources"][0]["locator"] = "harbour-report.txt, section 'Operations'"
        record["sources"][2]["locator"] = "ministry-statement.txt, paragraph 1"

    edit(chronicle, "harbour-fibre-link-opens-2021", move)
    with pytest.raises(CommandError):
        verify(documents, chronicle)
    err = capsys.readouterr().err
    assert "section 'Operations' is not in harbour-report.txt" in err
    assert "locator names ministry-statement.txt, which is not in" in err


def test_an_invented_url_or_access_date_fails(corpus, capsys):
    documents, chronicle = corpus
    edit(
        chronicle,
        "harbour-fibre-link-opens-2021",
        lambda r: r["sources"][1].update(url="https://ridge.example.org/x", accessed="2021-10-03"),
    )
    with pytest.raises(CommandError, match="2 problem"):
        verify(documents, chronicle)


def test_an_inferred_year_must_be_marked(corpus, capsys):
    documents, chronicle = corpus
    edit(chronicle, "harbour-fibre-agreement-2019", lambda r: r.update(date="2018"))
    with pytest.raises(CommandError):
        verify(documents, chronicle)
    assert "the year 2018 of '2018' is in none of its documents" in capsys.readouterr().err
    edit(chronicle, "harbour-fibre-agreement-2019", lambda r: r.update(date="2018?", date_basis="inferred"))
    verify(documents, chronicle)


def test_a_document_no_record_cites_fails(corpus, capsys):
    documents, chronicle = corpus
    (documents / "unrelated.txt").write_text("Nothing of this is cited.")
    with pytest.raises(CommandError):
        verify(documents, chronicle)
    assert "unrelated.txt: no record cites this document" in capsys.readouterr().err


def test_an_empty_folder_checks_nothing_and_fails(corpus, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match="nothing was checked"):
        verify(empty, corpus[1])


def test_the_wrong_folder_checks_nothing_and_fails(corpus):
    with pytest.raises(CommandError, match="nothing was checked"):
        verify(SOURCES, corpus[1])  # the folder above the documents


def test_a_folder_that_does_not_exist_fails(corpus, tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        verify(tmp_path / "nowhere", corpus[1])


@pytest.mark.django_db
def test_the_test_chronicle_loads(capsys):
    call_command("load_chronicle", str(SOURCES / "chronicle.json"))
    assert set(PublicDevelopment.objects.values_list("slug", flat=True)) == {
        "harbour-fibre-agreement-2019",
        "harbour-fibre-link-opens-2021",
    }
