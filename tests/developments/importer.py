"""An import process for the concurrency test: loads a file in small batches.

python -m tests.developments.importer PATH BATCH_SIZE      (DATABASE_URL names the test database)
"""

import os
import sys
from pathlib import Path

import django


def main(path: str, batch_size: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from chronicle.developments import importing

    importing.load(importing.read_import_file(Path(path)), source_name=Path(path).name, batch_size=batch_size)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
