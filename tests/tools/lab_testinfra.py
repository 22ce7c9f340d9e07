"""Testinfra hosts for the molecule scenarios: commands through ``podman exec``, variables from Ansible.

The molecule inventory reaches the lab hosts over SSH; for the many small commands a verify step runs,
``podman exec`` is faster and needs no key. Each host's inventory variables are read once through the
Ansible backend and kept with its inventory name.
"""

from __future__ import annotations

import testinfra

VARIABLES = {}


def podman_host(name, variables=None):
    """A testinfra host for the lab container ``name``; ``variables`` are remembered for it when given."""
    node = testinfra.get_host(f"podman://{name}")
    node.inventory_name = name
    if variables is not None:
        VARIABLES.setdefault(name, variables)
    return node


def from_molecule(testinfra_host):
    """The podman host behind molecule's ``_testinfra_host`` fixture, its variables read once."""
    name = testinfra_host.backend.get_hostname()
    if name not in VARIABLES:
        VARIABLES[name] = testinfra_host.ansible.get_variables()
    return podman_host(name)


def inventory_vars(host):
    """The inventory variables of a host made by ``podman_host`` or ``from_molecule``."""
    return VARIABLES[host.inventory_name]
