"""Rapportages: the managers' report pages, their charts and their downloads."""
