from chronicle.developments import commands
from chronicle.developments.models import DevelopmentRecord


def revise_and_publish(development_id, curator, editor, *, note: str, kind: str = "correction", **changes):
    """Revise a published development, submit it, and publish the revision as a correction or update."""
    current = DevelopmentRecord.objects.get(id=development_id).content
    commands.revise_development(development_id, {**current, **changes}, actor=curator)
    commands.submit_development(development_id, actor=curator)
    publish = commands.publish_correction if kind == "correction" else commands.publish_update
    return publish(development_id, note, actor=editor)
