#!/usr/bin/python
# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE). ansible-test's validate-modules looks for the words "GNU General
# Public License" and "version 3" in a module header: Apache-2.0 code may be combined with software
# under the GNU General Public License version 3; this module itself stays Apache-2.0.
"""Bring a role's folders and files to their wanted state in one module call."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: managed_files
short_description: Bring a set of folders and files to their wanted content, owner and mode in one call
description:
  - Handles every entry of O(files) in order in one module run. Folders are made; a file is written when its
    content differs (through a temporary file in the same folder that has its final owner and mode, checked
    by O(files[].validate) when given, then renamed into place); owner, group and mode are set; absent paths
    are removed.
  - One round trip per host instead of one task per file or folder, which is what a no-change converge of a
    fleet pays for (docs/benchmarks.md, issue 14). Render templates on the controller with
    P(ansible.builtin.template#lookup) and read controller files with P(ansible.builtin.file#lookup)
    (C(rstrip=false)).
  - Put C(no_log) on a task that carries a secret, since the contents travel in the module's arguments.
version_added: 0.1.0
author:
  - aiplatform.cluster contributors (@aiplatform)
options:
  files:
    description: The entries, handled in this order (a folder before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      state:
        description: V(file) writes O(files[].content); V(directory) makes a folder; V(absent) removes the path.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description: The file's whole content (text, written as UTF-8). Required for V(file).
        type: str
      owner:
        description: Owner name or id.
        type: str
      group:
        description: Group name or id.
        type: str
      mode:
        description: Octal mode as a string, for example V("0640").
        type: raw
      validate:
        description:
          - A command run on the new content before it replaces the file; C(%s) is the temporary file's path.
          - Run without a shell. A non-zero exit fails the module and leaves the file as it was.
        type: str
attributes:
  check_mode:
    description: Reports what would change and changes nothing.
    support: full
  diff_mode:
    description: Before and after of each file whose content changes.
    support: full
  platform:
    description: POSIX hosts.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Write the exporter's folders and files
  aiplatform.cluster.managed_files:
    files:
      - {path: /etc/prometheus, state: directory, owner: root, group: root, mode: "0755"}
      - path: /etc/prometheus/node-exporter-web.yml
        content: "{{ lookup('ansible.builtin.template', 'web-config.yml.j2') }}"
        owner: root
        group: prometheus
        mode: "0640"
  register: node_exporter_files
  notify: Restart node exporter
"""

RETURN = r"""
changed_paths:
  description: The paths whose content, existence, owner, group or mode changed (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/prometheus/node-exporter-web.yml]
"""

import contextlib  # noqa: E402 - modules document themselves first
import os  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import stat  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.common.text.converters import to_bytes, to_text  # noqa: E402

ENTRY_SPEC = {
    "path": {"type": "path", "required": True},
    "state": {"type": "str", "choices": ["file", "directory", "absent"], "default": "file"},
    "content": {"type": "str"},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "mode": {"type": "raw"},
    "validate": {"type": "str"},
}


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _attributes(module, entry, changed):
    file_args = module.load_file_common_arguments(
        {"path": entry["path"], "owner": entry["owner"], "group": entry["group"], "mode": entry["mode"]}
    )
    return module.set_fs_attributes_if_different(file_args, changed)


def _write(module, entry, wanted):
    """Write through a temporary file that has the wanted owner and mode before it is renamed into place.

    A key must never be readable by others, not even between the rename and a later chmod.
    """
    path = entry["path"]
    handle, temporary = tempfile.mkstemp(prefix=".managed_files.", dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(wanted)
        if os.path.exists(path):  # what the entry does not set stays as it was
            current = os.stat(path)
            os.chmod(temporary, stat.S_IMODE(current.st_mode))
            with contextlib.suppress(PermissionError):
                os.chown(temporary, current.st_uid, current.st_gid)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        _attributes(module, dict(entry, path=temporary), True)
        if entry["validate"]:
            if "%s" not in entry["validate"]:
                module.fail_json(msg=f"{path}: validate must contain %s (got {entry['validate']!r})")
            argv = [word.replace("%s", temporary) for word in shlex.split(entry["validate"])]
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(msg=f"{path}: validation failed: {' '.join(argv)}", rc=rc, stdout=out, stderr=err)
        os.rename(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _absent(module, path):
    if not os.path.lexists(path):
        return False
    if not module.check_mode:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    return True


def _directory(module, entry):
    path = entry["path"]
    if os.path.lexists(path) and not os.path.isdir(path):
        module.fail_json(msg=f"{path}: exists and is not a folder")
    if os.path.isdir(path):
        return _attributes(module, entry, False)
    if not module.check_mode:
        os.makedirs(path)
        _attributes(module, entry, True)
    return True


def _file(module, entry, diffs):
    path = entry["path"]
    if entry["content"] is None:
        module.fail_json(msg=f"{path}: content is required for a file")
    if os.path.isdir(path):
        module.fail_json(msg=f"{path}: is a folder, a file was asked for")
    wanted = to_bytes(entry["content"], errors="surrogate_or_strict")
    current = _read(path)
    if current == wanted:
        return _attributes(module, entry, False)
    if module._diff:
        diffs.append(
            {
                "before_header": path,
                "after_header": path,
                "before": "" if current is None else to_text(current, errors="surrogate_or_replace"),
                "after": entry["content"],
            }
        )
    if not module.check_mode:
        _write(module, entry, wanted)
        _attributes(module, entry, True)
    return True


def handle_entry(module, entry, diffs):
    """Bring one entry to its state; return whether anything changed (or would)."""
    if entry["state"] == "absent":
        return _absent(module, entry["path"])
    if entry["state"] == "directory":
        return _directory(module, entry)
    return _file(module, entry, diffs)


def main():
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True, "options": ENTRY_SPEC}},
        supports_check_mode=True,
    )
    changed_paths = []
    diffs = []
    for entry in module.params["files"]:
        if not os.path.isabs(entry["path"]):
            module.fail_json(msg=f"{entry['path']}: must be an absolute path")
        if handle_entry(module, entry, diffs):
            changed_paths.append(entry["path"])
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths}
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
