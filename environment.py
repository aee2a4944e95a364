"""behave's hook file for this project.

It lives at the repo root, beside ``features/`` and ``steps/``: behave looks for
``environment.py`` and ``steps/`` in the same base directory, and a
``features/environment.py`` would make it look for ``features/steps/`` instead.
All hooks are kclusterkit's own, kept in the package so they can be tested.
"""

from kclusterkit.hooks import *  # noqa: F401,F403
