"""Retention periods and destruction lists (managers and the privacyfunctionaris)."""
