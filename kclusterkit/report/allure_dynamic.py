"""Make allure.dynamic.label/epic/feature/story/severity/tag/parameter/title work in behave.

allure-behave 2.16's listener implements only description/description_html/link; the other
``allure.dynamic.*`` calls are silently dropped. This pluggy plugin fills that gap by
writing to the test case the AllureFormatter is currently recording.
"""

from __future__ import annotations

from typing import Any

import allure_commons
from allure_commons.model2 import Label, Parameter
from allure_commons.types import ALLURE_UNIQUE_LABELS
from allure_commons.utils import represent


class AllureDynamicForBehave:
    def __init__(self, listener: Any) -> None:
        self.listener = listener

    def _test(self) -> Any:
        return self.listener.logger.get_test(None)

    @allure_commons.hookimpl
    def add_label(self, label_type: Any, labels: Any) -> None:
        test = self._test()
        if test is None:
            return
        name = getattr(label_type, "value", label_type)
        if name in ALLURE_UNIQUE_LABELS:
            test.labels = [lb for lb in test.labels if lb.name != name]
        for value in labels:
            test.labels.append(Label(name=name, value=getattr(value, "value", value)))

    @allure_commons.hookimpl
    def add_parameter(self, name: str, value: Any, excluded: Any, mode: Any) -> None:
        test = self._test()
        if test is not None:
            test.parameters = (test.parameters or []) + [
                Parameter(name=name, value=represent(value), excluded=excluded or None,
                          mode=mode.value if mode else None)]

    @allure_commons.hookimpl
    def add_title(self, test_title: str) -> None:
        test = self._test()
        if test is not None:
            test.name = test_title


def allure_formatter(runner: Any) -> Any:
    """The AllureFormatter of this run, or None when Allure is not among the formatters."""
    try:
        from allure_behave.formatter import AllureFormatter
    except ImportError:
        return None
    for formatter in getattr(runner, "formatters", None) or []:
        if isinstance(formatter, AllureFormatter):
            return formatter
    return None


def enable(runner: Any) -> AllureDynamicForBehave | None:
    """Register the plugin for this run (call from before_all); returns it for ``disable``."""
    formatter = allure_formatter(runner)
    if formatter is None:
        return None
    plugin = AllureDynamicForBehave(formatter.listener)
    allure_commons.plugin_manager.register(plugin)
    return plugin


def disable(plugin: AllureDynamicForBehave | None) -> None:
    if plugin is not None:
        allure_commons.plugin_manager.unregister(plugin)
