# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The cross-field checks of the node_exporter role's variables (a pure function)."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems
from ansible_collections.aiplatform.cluster.plugins.module_utils.state_store import stores_problems

_BCRYPT = re.compile(r"^\$2[aby]\$")


def node_exporter_problems(settings):
    """One message per problem, each naming its variable; ``settings`` maps variable names to typed values.

    ``stores`` ([{variable, path, work_tree}], the monitoring CA's store when TLS is on) is refused inside a
    git work tree unless ``topology_state_allow_in_git``.
    """
    found = Problems()
    port = settings.get("node_exporter_port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        found.add("node_exporter_port", "must be a port number (1..65535)", port)
    textfile_dir = settings.get("node_exporter_textfile_dir")
    if not isinstance(textfile_dir, str) or not textfile_dir.startswith("/"):
        found.add("node_exporter_textfile_dir", "must be an absolute path", textfile_dir)
    if not settings.get("node_exporter_collectors"):
        found.add(
            "node_exporter_collectors", "must name at least one collector", settings.get("node_exporter_collectors")
        )
    users = settings.get("node_exporter_basic_auth_users") or {}
    for name, value in sorted(users.items()) if isinstance(users, dict) else []:
        if not isinstance(value, str) or not _BCRYPT.match(value):
            # Never echo what may be a password.
            found.add(
                f"node_exporter_basic_auth_users[{name}]",
                "must be a bcrypt hash ($2a$/$2b$/$2y$), never a password",
                "a value that is not a bcrypt hash",
            )
    if settings.get("node_exporter_tls_client_auth") and not settings.get("node_exporter_tls"):
        found.add("node_exporter_tls_client_auth", "needs node_exporter_tls", True)
    found.messages.extend(stores_problems(settings.get("stores"), settings.get("topology_state_allow_in_git")))
    return found.messages


class FilterModule:
    """node_exporter filters."""

    def filters(self):
        return {"node_exporter_problems": node_exporter_problems}
