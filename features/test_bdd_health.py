"""Scenarios of health.feature; all of their steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios("health.feature")
