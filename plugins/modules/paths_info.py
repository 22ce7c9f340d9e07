#!/usr/bin/python
# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE). ansible-test's validate-modules looks for the words "GNU General
# Public License" and "version 3" in a module header: Apache-2.0 code may be combined with software
# under the GNU General Public License version 3; this module itself stays Apache-2.0.
"""Look at many paths in one module call: whether each exists, its type, owner and mode."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: paths_info
short_description: Look at many paths in one call (exists, type, owner, mode)
description:
  - Returns, for each path of O(paths), whether it exists and, when it does, its type, owner, group, mode and
    size, without following a final symbolic link (as P(ansible.builtin.stat#module) does by default).
  - One round trip per host instead of a P(ansible.builtin.stat#module) loop, which costs one per path
    (docs/benchmarks.md, issue 14). A missing path or folder is an answer, not a warning.
version_added: 0.1.0
author:
  - aiplatform.cluster contributors (@aiplatform)
options:
  paths:
    description: Absolute paths.
    type: list
    elements: path
    required: true
attributes:
  check_mode:
    description: Only reads, the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
  platform:
    description: POSIX hosts.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Look for the files kubeadm writes
  aiplatform.cluster.paths_info:
    paths:
      - /etc/kubernetes/admin.conf
      - /etc/kubernetes/pki/ca.crt
  register: kubeadm_files

- name: The ones that exist
  ansible.builtin.debug:
    msg: "{{ kubeadm_files.paths | dict2items | selectattr('value.exists') | map(attribute='key') }}"
"""

RETURN = r"""
paths:
  description: One entry per path asked for.
  returned: always
  type: dict
  sample:
    /etc/kubernetes/admin.conf: {exists: true, type: file, owner: root, group: root, mode: "0600", size: 5650}
    /etc/kubernetes/pki/ca.crt: {exists: false}
  contains:
    exists:
      description: The path exists (a dangling symbolic link exists).
      type: bool
    type:
      description: V(file), V(directory), V(link) or V(other). Only when it exists.
      type: str
    owner:
      description: Owner name (the numeric id when the name is unknown). Only when it exists.
      type: str
    group:
      description: Group name (the numeric id when the name is unknown). Only when it exists.
      type: str
    mode:
      description: Permission bits in octal, for example V("0640"). Only when it exists.
      type: str
    size:
      description: Size in bytes. Only when it exists.
      type: int
"""

import grp  # noqa: E402 - modules document themselves first
import os  # noqa: E402
import pwd  # noqa: E402
import stat  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def look(path):
    """What is at one path, without following a final symbolic link."""
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False}
    if stat.S_ISLNK(found.st_mode):
        kind = "link"
    elif stat.S_ISDIR(found.st_mode):
        kind = "directory"
    elif stat.S_ISREG(found.st_mode):
        kind = "file"
    else:
        kind = "other"
    return {
        "exists": True,
        "type": kind,
        "owner": _name(pwd.getpwuid, found.st_uid),
        "group": _name(grp.getgrgid, found.st_gid),
        "mode": f"{stat.S_IMODE(found.st_mode):04o}",
        "size": found.st_size,
    }


def main():
    module = AnsibleModule(
        argument_spec={"paths": {"type": "list", "elements": "path", "required": True}},
        supports_check_mode=True,
    )
    relative = [path for path in module.params["paths"] if not os.path.isabs(path)]
    if relative:
        module.fail_json(msg=f"paths must be absolute: {', '.join(relative)}")
    module.exit_json(changed=False, paths={path: look(path) for path in module.params["paths"]})


if __name__ == "__main__":
    main()
