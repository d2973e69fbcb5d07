"""Writes to the vendor (create, move, reject, attach), their rules, and the passthrough."""

from unified_ats.writes.service import OutcomeUnknown, Writes, Written, outcome_unknown
from unified_ats.writes.validation import WriteRejected

__all__ = ["OutcomeUnknown", "WriteRejected", "Writes", "Written", "outcome_unknown"]
