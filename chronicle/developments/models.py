"""Read models: tables derived from the event log, droppable and rebuildable at any time.

They are written only by `projections.py`, never by hand. Nothing outside this app holds
a foreign key to them, so `rebuild_projections` can drop and refill them freely.
"""

from django.db import models

from chronicle.domain.development import Workflow
from chronicle.domain.events import RevisionKind


def _choices(values) -> list[tuple[str, str]]:
    """Model choices from one of the domain's enumerations (which carry their labels)."""
    return [(value.value, value.label) for value in values]


class DevelopmentRecord(models.Model):
    """The editorial state of one development: its working copy and its published version."""

    id = models.UUIDField(primary_key=True)
    slug = models.SlugField(max_length=120, unique=True)
    version = models.PositiveIntegerField()
    workflow = models.CharField(max_length=20, choices=_choices(Workflow))
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=40)
    date = models.CharField("date (EDTF)", max_length=60)
    date_earliest = models.DateField()
    date_latest = models.DateField()
    countries = models.JSONField(default=list)
    topics = models.JSONField(default=list)
    content = models.JSONField(help_text="The working copy: what the next publication will say.")
    published_content = models.JSONField(null=True, blank=True)
    has_pending_revision = models.BooleanField(default=False)
    revision_authors = models.JSONField(default=list, help_text="User ids who wrote the pending revision.")
    review_comment = models.TextField(blank=True)
    publish_at = models.DateTimeField(null=True, blank=True)
    retraction_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    last_changed_at = models.DateTimeField()
    last_changed_by = models.CharField(max_length=150)
    last_event_type = models.CharField(max_length=100)

    class Meta:
        verbose_name = "development"
        ordering = ["-last_changed_at"]
        indexes = [
            models.Index(fields=["workflow", "-last_changed_at"], name="record_workflow_changed"),
            models.Index(fields=["publish_at"], name="record_publish_at"),
        ]
        permissions = [
            ("draft_development", "Can draft, revise and submit developments"),
            ("review_development", "Can request changes to developments in review"),
            ("publish_development", "Can publish developments, corrections and updates"),
            ("retract_development", "Can retract published developments"),
        ]

    def __str__(self) -> str:
        return self.title


class PublicStatus(models.TextChoices):
    PUBLISHED = "published", "Published"
    RETRACTED = "retracted", "Retracted"


class PublicDevelopment(models.Model):
    """What the public sees of a development: its latest published version."""

    id = models.UUIDField(primary_key=True)
    slug = models.SlugField(max_length=120, unique=True)
    status = models.CharField(max_length=20, choices=PublicStatus.choices)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    kind = models.CharField(max_length=40)
    stage = models.CharField(max_length=40, blank=True)
    date = models.CharField("date (EDTF)", max_length=60)
    date_earliest = models.DateField()
    date_latest = models.DateField()
    content = models.JSONField()
    retraction_reason = models.TextField(blank=True)
    first_published_at = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="When its latest public event was recorded.")
    last_public_position = models.BigIntegerField(help_text="Position of its latest public event.")
    search_text = models.TextField(
        default="", editable=False, help_text="Title and summary folded for `q` (chronicle.domain.search)."
    )

    class Meta:
        verbose_name = "public development"
        ordering = ["-date_latest", "-date_earliest", "id"]
        indexes = [
            models.Index(fields=["status", "-date_latest", "-date_earliest", "id"], name="public_status_date"),
            models.Index(fields=["status", "-updated_at", "id"], name="public_status_updated"),
            models.Index(fields=["date_earliest", "date_latest"], name="public_date_span"),
            models.Index(fields=["kind"], name="public_kind"),
        ]

    def __str__(self) -> str:
        return self.title


class PublicCountry(models.Model):
    development = models.ForeignKey(PublicDevelopment, on_delete=models.CASCADE, related_name="country_rows")
    code = models.CharField(max_length=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["development", "code"], name="public_country_unique")]
        indexes = [models.Index(fields=["code", "development"], name="public_country_code")]

    def __str__(self) -> str:
        return self.code


class PublicTopic(models.Model):
    development = models.ForeignKey(PublicDevelopment, on_delete=models.CASCADE, related_name="topic_rows")
    slug = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["development", "slug"], name="public_topic_unique")]
        indexes = [models.Index(fields=["slug", "development"], name="public_topic_slug")]

    def __str__(self) -> str:
        return self.slug


class PublicActor(models.Model):
    development = models.ForeignKey(PublicDevelopment, on_delete=models.CASCADE, related_name="actor_rows")
    name = models.CharField(max_length=300)
    role = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["development", "name", "role"], name="public_actor_unique")]
        indexes = [models.Index(fields=["name"], name="public_actor_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class PublicRelation(models.Model):
    """A published development names another as related; kept so the other's page can link back."""

    development = models.ForeignKey(PublicDevelopment, on_delete=models.CASCADE, related_name="relation_rows")
    slug = models.CharField(max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["development", "slug"], name="public_relation_unique")]
        indexes = [models.Index(fields=["slug", "development"], name="public_relation_slug")]

    def __str__(self) -> str:
        return self.slug


class PublicRevision(models.Model):
    """One public event of a development: its first publication, a correction, an update
    or its retraction, with the content that was public after it."""

    position = models.BigIntegerField(primary_key=True)
    development = models.ForeignKey(PublicDevelopment, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=_choices(RevisionKind))
    note = models.TextField(blank=True)
    content = models.JSONField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.development_id} at #{self.position}"
