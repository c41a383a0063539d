"""Loaded before Django (pyproject's ``-p``): tests run as development does.

The settings default to production (DEBUG off, no key); the suite runs
with DEBUG on and a throwaway key unless the environment says otherwise.
Tests of the production defaults start their own processes.
"""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
