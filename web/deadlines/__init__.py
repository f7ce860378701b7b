"""deadlines blueprint: extending an open task's deadline (Termijn verlengen)."""
