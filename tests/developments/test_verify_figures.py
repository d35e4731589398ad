"""verify_sources on figures, date bases and what a source could know: a small document set
written here, never the seed documents."""

import json

import pytest
from django.core.management import CommandError, call_command

REPORT = """Coastal trade review

Published 2024

Trade between the two ports was $1.2 billion in 2019, but by 2023 it had exceeded $2.5 billion.
More than 40 operators now use the harbour, which covers about 12 square kilometres.
Last month the ports agreed to cut handling fees.
"""

OLD_JOURNAL = "Harbour plans, 2018 edition. The ports may one day trade more."


def figures(**overrides):
    record = {
        "key": "port-trade-2023",
        "title": "Port trade above $2.5 billion by 2023",
        "summary": "By 2023 trade between the two ports had exceeded $2.5 billion.",
        "kind": "indicator",
        "date": "2023",
        "date_basis": "given",
        "countries": ["BY"],
        "topics": ["trade"],
        "amounts": [
            {"value": "2500000000", "currency": "USD", "measures": "trade", "qualifier": "more-than", "period": "2023"},
            {"value": "40", "unit": "operators", "measures": "operators", "qualifier": "more-than", "period": "2023"},
            {"value": "12", "unit": "km²", "measures": "area", "qualifier": "about", "period": "2023"},
        ],
        "sources": [
            {
                "title": "Coastal trade review",
                "publisher": "Harbour board",
                "published": "2024",
                "locator": "review.txt, paragraph 1",
                "quote": "by 2023 it had exceeded $2.5 billion",
            }
        ],
    }
    record.update(overrides)
    return record


def fee_agreement(**overrides):
    record = {
        "key": "port-fee-agreement",
        "title": "Ports agree to cut handling fees",
        "summary": "Last month, the review says, the ports agreed to cut handling fees.",
        "kind": "agreement",
        "date": "2024-05?",
        "date_basis": "inferred",
        "countries": ["BY"],
        "topics": ["trade"],
        "sources": [
            {
                "title": "Coastal trade review",
                "publisher": "Harbour board",
                "published": "2024",
                "locator": "review.txt, paragraph 3",
                "quote": "Last month the ports agreed to cut handling fees.",
            }
        ],
    }
    record.update(overrides)
    return record


@pytest.fixture
def documents(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "review.txt").write_text(REPORT)
    return folder


def verify(documents, *records):
    chronicle = documents.parent / "chronicle.json"
    chronicle.write_text(json.dumps({"format": "chronicle-import/1", "developments": list(records)}))
    call_command("verify_sources", str(documents), "--chronicle", str(chronicle))


def test_figures_with_the_documents_qualifiers_and_periods_pass(documents, capsys):
    verify(documents, figures(), fee_agreement())
    out = capsys.readouterr().out
    assert "3 qualifiers" in out and "3 figures" in out and "2 date bases" in out
    assert "0 problem(s)" in out


@pytest.mark.parametrize(
    ("index", "qualifier", "written"),
    [(0, "exact", "more-than"), (1, "exact", "more-than"), (2, "more-than", "about")],
)
def test_a_qualifier_the_document_does_not_use_fails(documents, capsys, index, qualifier, written):
    record = figures()
    record["amounts"][index]["qualifier"] = qualifier
    with pytest.raises(CommandError, match="1 problem"):
        verify(documents, record, fee_agreement())
    assert f"is {qualifier} but its documents write it as {written}" in capsys.readouterr().err


def test_an_exact_figure_stays_exact(documents, capsys):
    record = figures(
        amounts=[
            {"value": "1200000000", "currency": "USD", "measures": "trade", "qualifier": "more-than", "period": "2019"}
        ]
    )
    with pytest.raises(CommandError):
        verify(documents, record, fee_agreement())
    assert "is more-than but its documents write it as exact" in capsys.readouterr().err


def test_figures_need_periods_the_documents_write(documents, capsys):
    record = figures()
    del record["amounts"][0]["period"]
    record["amounts"][1]["period"] = "2021"
    with pytest.raises(CommandError, match="2 problem"):
        verify(documents, record, fee_agreement())
    err = capsys.readouterr().err
    assert "the figure 2500000000 has no period" in err
    assert "the period '2021' of 40 is in none of its documents" in err


def test_a_given_interval_has_both_years_in_its_documents(documents, capsys):
    with pytest.raises(CommandError, match="1 problem"):
        verify(documents, figures(date="2019/2022"), fee_agreement())
    assert "the date is given, but the year 2022 is in none of its documents" in capsys.readouterr().err


def test_every_record_says_how_its_date_is_known(documents, capsys):
    undated = fee_agreement(date="2024-05", sources=[{**fee_agreement()["sources"][0], "published": None}])
    del undated["sources"][0]["published"]
    with pytest.raises(CommandError, match="3 problem"):
        verify(documents, figures(date_basis=None), figures(key="trade-2022", date="2022"), undated)
    err = capsys.readouterr().err
    assert "port-trade-2023: no date_basis" in err
    assert "trade-2022: the year 2022 of '2022' is in none of its documents" in err
    assert "port-fee-agreement: the date is inferred, but no cited document is dated" in err


def test_a_source_written_before_the_event_cannot_witness_it(documents, capsys):
    (documents / "journal.txt").write_text(OLD_JOURNAL)
    journal = {
        "title": "Harbour plans",
        "publisher": "Harbour journal",
        "published": "2018",
        "locator": "journal.txt, page 1",
        "quote": "The ports may one day trade more.",
    }
    record = figures(sources=[*figures()["sources"], journal])
    with pytest.raises(CommandError, match="1 problem"):
        verify(documents, record, fee_agreement())
    assert "'Harbour plans' (2018) was written before the event it is cited for" in capsys.readouterr().err
    # Announcing what is to come is what an earlier source can do.
    forecast = {
        "key": "ports-may-trade-more",
        "title": "The ports may trade more",
        "summary": "A harbour journal expected the ports to trade more one day.",
        "kind": "statement",
        "stage": "announced",
        "date": "2024",
        "date_basis": "given",
        "countries": ["BY"],
        "topics": ["trade"],
        "sources": [journal, {**figures()["sources"][0], "quote": "Published 2024"}],
    }
    verify(documents, forecast, figures(), fee_agreement())
