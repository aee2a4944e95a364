"""What a run leaves behind for people: Allure labels, attachments and environment.

Kept apart from the hooks so the report's content can be tested without running behave,
and so a run without the Allure formatter (``-f plain`` only) loses nothing but the report.
"""

from __future__ import annotations
