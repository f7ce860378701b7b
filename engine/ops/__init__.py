"""Operations: health and readiness, metrics, structured logs, backup and restore."""
