"""Bibliobot: a Telegram assistant for the patrons and staff of public-library networks."""

__version__ = "0.1.0"
