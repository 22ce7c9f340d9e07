# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Pure parsers and rules for kubeadm's remaining checks: versions, kernel config, proxy variables and
NO_PROXY matching, containerd's hosts.toml, image references. No I/O; malformed input raises CheckError."""

from __future__ import annotations

import ipaddress
import re
import shlex

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import CheckError

# kubeadm's GetKubeletVersion (cmd/kubeadm/app/preflight/utils.go): `kubelet --version` prints this.
_KUBELET_VERSION = re.compile(r"^\s*Kubernetes v((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)([-0-9a-zA-Z_.+]*)?)\s*$")
_SEMVER = re.compile(r"^\s*v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)([-0-9a-zA-Z_.+]*)\s*$")
# A kernel config line as the system validators read it (validKConfigRegex in kernel_validator.go).
_KCONFIG = re.compile(r"^(CONFIG_[A-Z0-9_]+)=([myn])")


def semver(text, what="version"):
    """'v1.34.2' or '1.34.2-rc.0' -> (1, 34, 2). CheckError otherwise."""
    match = _SEMVER.match(str(text))
    if not match:
        raise CheckError(f"{what} is not a semantic version: {text!r}")
    return tuple(int(match.group(i)) for i in (1, 2, 3))


def parse_kubelet_version(text):
    """`kubelet --version` ('Kubernetes v1.34.2') -> (1, 34, 2); CheckError as kubeadm's 'Unable to parse'."""
    match = _KUBELET_VERSION.match(text.strip())
    if not match:
        raise CheckError(f"unable to parse the output of kubelet --version: {text.strip()[:200]!r}")
    return tuple(int(match.group(i)) for i in (2, 3, 4))


def parse_kernel_config(text):
    """A kernel .config -> {CONFIG_NAME: 'y'|'m'|'n'}; '# CONFIG_X is not set' lines are left out, as by the
    system validators. CheckError when no CONFIG_ line at all (not a kernel config)."""
    options = {}
    for line in text.splitlines():
        match = _KCONFIG.match(line.strip())
        if match:
            options[match.group(1)] = match.group(2)
    if not options:
        raise CheckError("no CONFIG_<NAME>=<y|m|n> line: not a kernel config")
    return options


def kernel_config_missing(options, wanted):
    """Names of ``wanted`` (each 'NAME' or 'NAME|ALIAS') that are neither built in nor a module."""
    missing = []
    for entry in wanted:
        names = [f"CONFIG_{name.strip()}" for name in str(entry).split("|") if name.strip()]
        if not any(options.get(name) in ("y", "m") for name in names):
            missing.append(str(entry))
    return missing


def parse_environment_file(text):
    """/etc/environment (pam_env's KEY=VALUE lines, optional quotes and 'export ') -> {KEY: VALUE}."""
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            continue
        try:
            parts = shlex.split(value, comments=False, posix=True)
        except ValueError:
            parts = [value]
        values[key] = parts[0] if len(parts) == 1 else value.strip()
    return values


def proxy_settings(env):
    """Go's httpproxy.FromEnvironment: (https proxy, no_proxy), upper case first, empty values skipped."""

    def first(*names):
        for name in names:
            if env.get(name):
                return env[name]
        return ""

    return first("HTTPS_PROXY", "https_proxy"), first("NO_PROXY", "no_proxy")


def _split_host_port(entry):
    """'host', 'host:port', '[v6]:port', 'v6' -> (host, port or '')."""
    if entry.startswith("["):
        host, _sep, rest = entry[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, port
    return entry, ""


def proxy_bypassed(host, port, no_proxy):
    """Whether NO_PROXY sends a request to host:port directly: the rules of golang.org/x/net/http/httpproxy
    (useProxy): localhost and loopback IPs never use a proxy; '*' matches all; entries are IPs, CIDRs (IPv4
    or IPv6), or domains (a domain matches itself and its subdomains, '.domain' only subdomains), each with
    an optional port."""
    host = host.strip().lower().strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if host == "localhost" or (ip is not None and ip.is_loopback):
        return True
    entries = [raw.strip().lower() for raw in no_proxy.split(",") if raw.strip()]
    return any(_no_proxy_entry_matches(entry, host, ip, str(port)) for entry in entries)


def _in_cidr(ip, cidr):
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return ip is not None and ip.version == network.version and ip in network


def _no_proxy_entry_matches(entry, host, ip, port):
    if entry == "*":
        return True
    if "/" in entry:
        return _in_cidr(ip, entry)
    entry_host, entry_port = _split_host_port(entry)
    if not entry_host or entry_port not in ("", port):
        return False
    try:
        entry_ip = ipaddress.ip_address(entry_host)
    except ValueError:
        entry_ip = None
    if entry_ip is not None:
        return ip is not None and ip == entry_ip
    if entry_host.startswith("*."):
        entry_host = entry_host[1:]
    if entry_host.startswith("."):
        return host.endswith(entry_host)
    return host == entry_host or host.endswith("." + entry_host)


def first_address(cidr):
    """kubeadm's HTTPProxyCIDRCheck probes the first address of a CIDR (index 1): '10.96.0.0/12' -> '10.96.0.1'."""
    try:
        network = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError as exc:
        raise CheckError(f"not a CIDR: {cidr!r}") from exc
    return str(network.network_address + 1)


def ip_version(text):
    """4 or 6 for an address, CIDR or host[:port] with an address; None for a name."""
    value = str(text).strip()
    if "/" in value:
        try:
            return ipaddress.ip_network(value, strict=False).version
        except ValueError:
            return None
    host, _port = _split_host_port(value)
    for candidate in (value, host):
        try:
            return ipaddress.ip_address(candidate.strip("[]")).version
        except ValueError:
            continue
    return None


def endpoint_host_port(endpoint, default_port=6443):
    """'https://api.example:6443', 'api.example:6443', '[fd00::1]:6443', '10.0.0.1' -> (host, port)."""
    value = re.sub(r"^[a-z]+://", "", str(endpoint).strip()).split("/", 1)[0]
    host, port = _split_host_port(value)
    if not host:
        raise CheckError(f"not an endpoint: {endpoint!r}")
    try:
        return host, int(port) if port else default_port
    except ValueError as exc:
        raise CheckError(f"not an endpoint (port): {endpoint!r}") from exc


_TOML_SECTION = re.compile(r'^\s*\[host\.("(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\]]+)\]\s*(#.*)?$')
_TOML_SERVER = re.compile(r'^\s*server\s*=\s*("(?:[^"\\]|\\.)*"|\'[^\']*\')\s*(#.*)?$')


def parse_hosts_toml(text):
    """containerd's hosts.toml (docs/hosts.md): {"server": origin URL or None, "hosts": [mirror URL, ...] in
    file order}. Only the keys the check needs; a [host."…"] section header or a server line that does
    not parse raises CheckError."""
    server, hosts = None, []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[host."):
            match = _TOML_SECTION.match(stripped)
            if not match:
                raise CheckError(f'hosts.toml line {number}: not a [host."…"] section: {stripped!r}')
            name = match.group(1).strip().strip("\"'")
            if name not in hosts:
                hosts.append(name)
            continue
        if stripped.startswith("server") and "=" in stripped:
            match = _TOML_SERVER.match(stripped)
            if not match:
                raise CheckError(f"hosts.toml line {number}: server is not a quoted string: {stripped!r}")
            server = match.group(1)[1:-1]
    return {"server": server, "hosts": hosts}


def normalize_image(ref):
    """Docker's reference rules as containerd stores them: 'pause:3.9' -> 'docker.io/library/pause:3.9',
    'registry.k8s.io/pause' -> 'registry.k8s.io/pause:latest'; a digest stays as given."""
    ref = str(ref).strip()
    if not ref or " " in ref:
        raise CheckError(f"not an image reference: {ref!r}")
    first, sep, _rest = ref.partition("/")
    if not sep:
        ref = "docker.io/library/" + ref
    elif "." not in first and ":" not in first and first != "localhost":
        ref = "docker.io/" + ref
    name = ref.split("@", 1)[0]
    if "@" not in ref and ":" not in name.rsplit("/", 1)[-1]:
        ref += ":latest"
    return ref


def image_registry(ref):
    """The registry part of a normalized reference: 'registry.k8s.io/pause:3.9' -> 'registry.k8s.io'."""
    return normalize_image(ref).split("/", 1)[0]


def url_host_port(url):
    """'https://mirror.example:5000/v2' -> ('mirror.example', 5000); 'http://h' -> ('h', 80)."""
    scheme = "https"
    match = re.match(r"^([a-z]+)://", str(url))
    if match:
        scheme = match.group(1)
    return endpoint_host_port(url, default_port=80 if scheme == "http" else 443)
