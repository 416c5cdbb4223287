"""The Node client `synapsenode` (checklist item 21), when it is installed.

Opt-in: set BILLFOLD_SYNAPSENODE_DIR to a directory holding `node_modules/synapsenode`
(`npm install synapsenode@1.2.17` there) and have `node` on PATH; otherwise this skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from synapse_support import SynapseApp

SCRIPT = r"""
const Synapse = require('synapsenode');
const [clientId, clientSecret, host] = process.argv.slice(1);
(async () => {
  const client = new Synapse.Client({client_id: clientId, client_secret: clientSecret,
    fingerprint: 'fp_node', ip_address: '127.0.0.1', isProduction: false});
  client.host = host;
  const user = await client.createUser({logins: [{email: 'node@example.com'}],
    phone_numbers: ['901.111.1111'], legal_names: ['Node User']}, '127.0.0.1');
  const first = await user.createNode({type: 'ACH-US',
    info: {bank_id: 'synapse_good', bank_pw: 'test1234', bank_name: 'fake'}});
  const done = await user.verifyAchMfa(first.data.mfa.access_token, 'test_answer');
  const again = await client.getUser(user.id);
  const nodes = await again.getAllUserNodes();
  console.log(JSON.stringify({first: first.status, mfa: first.data.mfa.type, done: done.status,
    count: done.data.node_count, listed: nodes.data.node_count}));
})().catch((err) => {
  console.error(err.response ? err.response.status : err.message);
  process.exit(1);
});
"""


FOLDER = os.environ.get("BILLFOLD_SYNAPSENODE_DIR", "")
pytestmark = pytest.mark.skipif(
    not (FOLDER and (Path(FOLDER) / "node_modules" / "synapsenode").is_dir())
    or shutil.which("node") is None,
    reason="synapsenode not installed (set BILLFOLD_SYNAPSENODE_DIR) or node not on PATH",
)


def test_21_synapsenode_links_with_mfa(synapse: SynapseApp) -> None:
    result = subprocess.run(
        ["node", "-e", SCRIPT, synapse.client_id, synapse.client_secret, synapse.base_url],
        cwd=FOLDER,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"first": 202, "mfa": "question", "done": 200, "count": 2, "listed": 2}
