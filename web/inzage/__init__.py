"""inzage blueprint: the data subject's package (preview, PDF, ZIP) and the standaardbrieven of an inzageverzoek."""
