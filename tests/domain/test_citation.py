from chronicle.domain.citation import cite, cite_all

ARTICLE = {
    "title": "Harbour links of the north",
    "author": "A. Testwriter",
    "locator": "010_a1b2c3d4e5f60718.txt, section 'Construction', paragraph 2",
    "quote": "the link opened",
}
PRESS_RELEASE = {
    "title": "Fibre link opens",
    "publisher": "Ridge Networks",
    "url": "https://ridge.example.org/news/link-opens",
    "published": "2021-09-14",
    "accessed": "2021-10-02",
    "locator": "named in 010_a1b2c3d4e5f60718.txt, list of cited sources, reference 1",
}


def test_a_document_keeps_only_the_place_within_it():
    citation = cite(ARTICLE, [ARTICLE])
    assert citation.locator == "Section 'Construction', paragraph 2"
    assert (citation.title, citation.author, citation.quote) == (
        "Harbour links of the north",
        "A. Testwriter",
        "the link opened",
    )


def test_a_primary_source_names_the_work_that_cites_it_by_title():
    citation = cite_all([ARTICLE, PRESS_RELEASE])[1]
    assert citation.locator == "Named in “Harbour links of the north”, list of cited sources, reference 1"
    assert "txt" not in citation.locator


def test_dates_are_written_for_people():
    citation = cite(PRESS_RELEASE, [ARTICLE, PRESS_RELEASE])
    assert (citation.published, citation.accessed) == ("14 September 2021", "2 October 2021")


def test_a_file_name_no_other_source_explains_is_not_shown():
    citation = cite({**PRESS_RELEASE, "locator": "quoted in 099_ffffffffffffffff.txt, paragraph 5"})
    assert citation.locator == "Quoted in the cited work, paragraph 5"


def test_a_locator_without_file_names_is_kept():
    citation = cite({"title": "Decree No. 9", "publisher": "President", "locator": "article 3"})
    assert citation.locator == "Article 3"
    assert citation.url == citation.published == citation.accessed == ""
