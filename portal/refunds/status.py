"""The refund state machine."""

from enum import StrEnum

from portal.statemachine import Machine


class RefundStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


S = RefundStatus
REFUND_TRANSITIONS = {
    S.PENDING: {S.PROCESSED, S.FAILED},
    S.FAILED: {S.PENDING},  # retry
}
REFUND = Machine("refund", RefundStatus, REFUND_TRANSITIONS, initial=S.PENDING)
