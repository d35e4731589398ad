from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("developments", "0004_public_search_text")]

    operations = [migrations.DeleteModel(name="Checkpoint")]
