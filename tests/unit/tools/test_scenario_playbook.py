"""tests/tools/scenario_playbook.py: the output a scenario test searches is one line without colour."""

from scenario_playbook import flatten


def test_flatten_removes_colour_and_joins_whitespace():
    text = "\x1b[0;31mfatal: [gpu1]: FAILED!\x1b[0m => \n    msg: node_os_pid_max: must be\n      a whole number\n"
    assert flatten(text) == "fatal: [gpu1]: FAILED! => msg: node_os_pid_max: must be a whole number"
