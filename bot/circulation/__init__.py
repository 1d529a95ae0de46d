"""Circulation."""
