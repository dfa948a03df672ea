"""The console's own audit tables arrive with the readiness audit; none yet."""
