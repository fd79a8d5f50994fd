"""Invoice lifecycle: drafts may be deleted; an issued invoice can only be voided."""

from enum import StrEnum

from portal.statemachine import Machine


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    VOID = "void"


S = InvoiceStatus
INVOICE = Machine("invoice", InvoiceStatus, {S.DRAFT: {S.ISSUED}, S.ISSUED: {S.VOID}}, initial=S.DRAFT)
