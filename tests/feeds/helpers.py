import functools
from pathlib import Path

import rnc2rng
from lxml import etree

from chronicle.developments import commands
from chronicle.developments.models import DevelopmentRecord


def revise_and_publish(development_id, curator, editor, *, note: str, kind: str = "correction", **changes):
    """Revise a published development, submit it, and publish the revision as a correction or update."""
    current = DevelopmentRecord.objects.get(id=development_id).content
    commands.revise_development(development_id, {**current, **changes}, actor=curator)
    commands.submit_development(development_id, actor=curator)
    publish = commands.publish_correction if kind == "correction" else commands.publish_update
    return publish(development_id, note, actor=editor)


@functools.cache
def atom_schema() -> etree.RelaxNG:
    """RFC 4287's RELAX NG grammar (Appendix B), from the compact syntax kept beside the tests."""
    rng = rnc2rng.dumps(rnc2rng.loads((Path(__file__).parent / "atom.rnc").read_text()))
    # The grammar declares `local` as the empty namespace, which XML namespaces forbid
    # binding a prefix to; rnc2rng writes the declaration out anyway, unused.
    return etree.RelaxNG(etree.fromstring(rng.replace(' xmlns:local=""', "").encode()))


def assert_valid_atom(document: bytes) -> None:
    schema = atom_schema()
    assert schema.validate(etree.fromstring(document)), schema.error_log
