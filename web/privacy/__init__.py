"""privacy blueprint: the privacy officer's access-log pages, and the access context of every request."""
