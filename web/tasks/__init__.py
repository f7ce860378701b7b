"""tasks blueprint."""
