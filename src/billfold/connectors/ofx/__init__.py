"""OFX Direct Connect: a bank's own OFX server, with the person's bank login.

Needs the optional `ofx` extra (ofxtools, GPL-3.0): Billfold imports this
package only when ofxtools is installed, and the default install has no OFX
institutions. The directory is ofxtools' list of known servers plus any listed
in the `BILLFOLD_OFX_SERVERS` JSON file.
"""

from __future__ import annotations

from billfold.connectors.ofx.client import OfxHttpClient
from billfold.connectors.ofx.connector import OfxConnector
from billfold.connectors.ofx.directory import (
    OfxServersFileError,
    ServerConfig,
    load_servers_file,
    ofxtools_catalog,
)

__all__ = [
    "OfxConnector",
    "OfxHttpClient",
    "OfxServersFileError",
    "ServerConfig",
    "load_servers_file",
    "ofxtools_catalog",
]
