from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("developments", "0002_roles")]

    operations = [migrations.DeleteModel(name="Checkpoint")]
