"""deadlines blueprint: extending an open task's deadline (Termijn verlengen), pausing a legal deadline (opschorten)."""
