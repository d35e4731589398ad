# The admin's users, whose rights come from the groups "Curators" and "Editors" as in production.
from tests.admin.conftest import curator, editor, fast_passwords, roles  # noqa: F401
