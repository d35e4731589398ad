from chronicle.domain.events import RevisionKind
from chronicle.domain.notices import NOTICE_WORDS, notice_title


def test_every_revision_kind_has_a_label_and_a_notice_word():
    assert all(kind.label for kind in RevisionKind)
    assert set(NOTICE_WORDS) == set(RevisionKind)


def test_a_notice_is_titled_by_its_word_and_a_first_publication_by_its_title():
    assert notice_title("retracted", "A") == "Retracted: A"
    assert notice_title("published", "A") == "A"
