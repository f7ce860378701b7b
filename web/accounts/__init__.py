"""The beheerder's account review."""
