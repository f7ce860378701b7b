"""Privacy by design under the WGS: organisations and need-to-know, person keys, field visibility, the access log,
retention and destruction, and the data subject's contactpunt."""
