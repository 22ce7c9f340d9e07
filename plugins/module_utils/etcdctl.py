# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The one place that builds an etcdctl command line (argv, no shell): the etcd_status module and the
etcd role (through the etcd_etcdctl filter) both use it."""

from __future__ import annotations


def etcdctl_argv(etcdctl, endpoints, command, *, cacert=None, cert=None, key=None, timeout=5, json_output=False):
    """``[etcdctl, --endpoints=..., --dial/command-timeout=Ns, [-w json], [--cacert/cert/key], *command]``.

    ``endpoints`` is a list of client URLs (or one URL); ``command`` a list such as ``['endpoint', 'health']``;
    ``timeout`` in seconds (at least 1). etcdctl reads ETCDCTL_API=3 from the environment (3.4 needs it).
    """
    if isinstance(endpoints, str):
        endpoints = [endpoints]
    if isinstance(command, str):
        command = [command]
    seconds = f"{max(1, int(timeout))}s"
    argv = [str(etcdctl), f"--endpoints={','.join(str(e) for e in endpoints)}"]
    argv += [f"--dial-timeout={seconds}", f"--command-timeout={seconds}"]
    if json_output:
        argv += ["-w", "json"]
    argv += [f"--{name}={value}" for name, value in (("cacert", cacert), ("cert", cert), ("key", key)) if value]
    return argv + [str(part) for part in command]
