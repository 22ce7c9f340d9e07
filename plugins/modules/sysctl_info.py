#!/usr/bin/python
# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE). ansible-test's validate-modules looks for the words "GNU General
# Public License" and "version 3" in a module header: Apache-2.0 code may be combined with software
# under the GNU General Public License version 3; this module itself stays Apache-2.0.
"""Read kernel parameters from /proc/sys: value, presence and whether this host may write them."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sysctl_info
short_description: Read kernel parameters from /proc/sys, with whether each can be written
description:
  - Reads each named kernel parameter from C(/proc/sys) and says whether it exists and whether the
    caller may write it (access(2)), without changing anything.
  - A read-only C(/proc/sys) (an unprivileged container) and entries the kernel keeps read-only in a
    network namespace other than the initial one show as not writable.
version_added: 0.1.0
author:
  - aiplatform.cluster contributors (@aiplatform)
options:
  names:
    description: Parameter names in dotted form, for example V(net.ipv4.ip_forward).
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    description: Only reads, the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
  platform:
    description: Linux hosts.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Read the forwarding switch
  aiplatform.cluster.sysctl_info:
    names:
      - net.ipv4.ip_forward
      - vm.max_map_count
  register: node_sysctls
"""

RETURN = r"""
sysctls:
  description: One entry per name.
  returned: always
  type: dict
  sample:
    net.ipv4.ip_forward: {present: true, value: "1", writable: false}
  contains:
    present:
      description: The file exists under C(/proc/sys).
      type: bool
    value:
      description: Its content with whitespace runs reduced to one space; null when absent.
      type: str
    writable:
      description: The caller may write it.
      type: bool
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402 - modules document themselves first

from ansible_collections.aiplatform.cluster.plugins.module_utils.sysctl_probe import probe  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec={"names": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    module.exit_json(changed=False, sysctls=probe(module.params["names"]))


if __name__ == "__main__":
    main()
