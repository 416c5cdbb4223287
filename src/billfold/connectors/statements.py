"""Statements: the institution directory's entry for data that arrives as files.

Uploaded statements are read by `billfold.statements` and stored by the import
service, not by a background job, so that a bad file is refused in the upload's
own response. This connector gives the directory a generic "Statement upload"
institution (for a bank Billfold cannot log in to) and refuses to run a job: a
statement connection is refreshed by uploading the next file.
"""

from __future__ import annotations

from collections.abc import Sequence

from billfold.connectors.base import Session, SyncRequest
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution, InstitutionKind
from billfold.domain.snapshot import Snapshot

STATEMENT_INSTITUTION = Institution(
    id="statement_upload",
    name="Statement upload",
    kind=InstitutionKind.BANK,
    connector="statements",
    login_fields=(),
    settings={"formats": "csv,ofx,qfx,qif,camt053"},
)


class StatementConnector:
    kind = "statements"

    def catalog(self) -> Sequence[Institution]:
        return [STATEMENT_INSTITUTION]

    async def sync(self, session: Session, request: SyncRequest) -> Snapshot:
        raise ConnectorError(
            ErrorCode.ACTION_REQUIRED,
            "This connection is fed by uploaded statements; upload the next statement file.",
        )
