"""Tests of the scripted simulator (core/simulator)."""
