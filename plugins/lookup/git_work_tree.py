# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE). ansible-test's validate-modules looks for the words "GNU General
# Public License" and "version 3" in a plugin header: Apache-2.0 code may be combined with software
# under the GNU General Public License version 3; this plugin itself stays Apache-2.0.
"""Lookup aiplatform.cluster.git_work_tree: the git work tree a controller path lies in."""

from __future__ import annotations

DOCUMENTATION = r"""
name: git_work_tree
author:
  - aiplatform.cluster contributors (@aiplatform)
version_added: 0.1.0
short_description: The git work tree a path on the controller lies in
description:
  - For each path (which need not exist yet), the top folder of the git work tree it lies in, found by
    looking for C(.git) (a folder or a file) in the path and each folder above it; an empty string when none.
  - The roles refuse a secret store (CA keys, the encryption key) inside a git work tree unless
    C(topology_state_allow_in_git) is true.
options:
  _terms:
    description: Paths on the controller.
    type: list
    elements: path
    required: true
"""

EXAMPLES = r"""
- name: Refuse a store inside a git work tree
  ansible.builtin.assert:
    that: lookup('aiplatform.cluster.git_work_tree', etcd_pki_controller_dir) == ''
"""

RETURN = r"""
_raw:
  description: One entry per path, the work tree's top folder or an empty string.
  type: list
  elements: str
"""

from ansible.plugins.lookup import LookupBase  # noqa: E402 - plugins document themselves first

from ansible_collections.aiplatform.cluster.plugins.module_utils.state_store import git_work_tree  # noqa: E402


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [git_work_tree(term) for term in terms]
