"""Verbs: plan the Steps for the selected components, hand them to a runner, apply gates, return a Report."""
