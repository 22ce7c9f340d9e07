"""A site check as operators drop them into node_preflight_site_checks_dir: the node knows its name."""


def hostname_set(ctx):
    name = ctx.read("/etc/hostname").strip()
    return {
        "status": "pass" if name else "fail",
        "observed": name,
        "expected": "a name",
        "message": f"/etc/hostname is {name!r}",
    }


CHECKS = [{"id": "site.hostname_set", "category": "site", "run": hostname_set}]
