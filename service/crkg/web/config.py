"""The service's settings are ``crkg.config.Config`` (one object for web, store and commands).

Re-exported here because the web layer's users (``create_app(TestConfig(...))``, tests,
deployments) have always imported it from ``crkg.web.config``. New settings go into
``crkg.config.Config``, never into a second class here.
"""

from __future__ import annotations

from crkg.config import Config, TestConfig

__all__ = ["Config", "TestConfig"]
