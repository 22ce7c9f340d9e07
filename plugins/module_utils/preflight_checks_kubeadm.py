# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""kubeadm's init/join checks the node checks did not have (cmd/kubeadm/app/preflight/checks.go and the
system validators of k8s.io/system-validators): version skew, firewalld, static-pod manifests and etcd
data left over, proxy settings, IPv6 forwarding, the kubelet service, the kernel config, images present.

Where kubeadm only warns, the check's severity is warn. Read-only: nothing is pulled, loaded or enabled."""

from __future__ import annotations

import gzip
import os
import shlex
import socket
import threading
import zlib

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_node import host_ports
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    ALL_PROFILES,
    NODE_PROFILES,
    WARN,
    CheckError,
    Skip,
    check,
    failed,
    passed,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers_kubeadm import (
    endpoint_host_port,
    first_address,
    image_registry,
    ip_version,
    kernel_config_missing,
    normalize_image,
    parse_environment_file,
    parse_hosts_toml,
    parse_kernel_config,
    parse_kubelet_version,
    proxy_bypassed,
    proxy_settings,
    semver,
    url_host_port,
)

# kubeadm supports kubelets down to three minor versions older than itself (MinimumKubeletVersion,
# cmd/kubeadm/app/constants/constants.go: getSkewedKubernetesVersion(-3)).
KUBELET_MAX_MINOR_SKEW = 3
# Where the system validators look for the kernel config (kernel_validator.go, getKernelConfigReader), in
# order. kubeadm then tries `modprobe configs`; a read-only preflight does not load modules.
KERNEL_CONFIG_PATHS = (
    "/proc/config.gz",
    "/boot/config-{release}",
    "/usr/src/linux-{release}/.config",
    "/usr/src/linux/.config",
    "/usr/lib/modules/{release}/config",
    "/usr/lib/ostree-boot/config-{release}",
    "/usr/lib/kernel/config-{release}",
    "/usr/src/linux-headers-{release}/.config",
    "/lib/modules/{release}/build/.config",
)
# kubeadm's HTTPProxyCIDRCheck asks about https://<first address of the CIDR>:1234, HTTPProxyCheck about
# https://<host> (port 443).
CIDR_PROBE_PORT = 1234
HTTPS_PORT = 443
# Registries whose pull endpoint differs from their name when hosts.toml has no server (containerd's default).
REGISTRY_ORIGINS = {"docker.io": "https://registry-1.docker.io"}


def _version_output(ctx, tool, args):
    rc, out, err = ctx.run(tool, args)
    if rc != 0:
        raise CheckError(f"{tool} {' '.join(args)} exited {rc}: {(err or out).strip()[:200]}")
    return out.strip()


@check("kubeadm.version_skew", "kubeadm", severity=WARN, profiles=("control_plane",))
def kubeadm_version_skew(ctx):
    # KubernetesVersionCheck: a control plane newer than kubeadm's own minor is not supported (a warning).
    target = ctx.setting("kubernetes_version")
    if not target:
        raise Skip("kubernetes_version not set: nothing to compare kubeadm with")
    text = _version_output(ctx, "kubeadm", ["version", "-o", "short"])
    if text.startswith("v0.0.0"):
        raise Skip(f"kubeadm {text} is a custom build without a version (kubeadm skips it too)")
    kubeadm = semver(text, "kubeadm version")
    wanted = semver(target, "kubernetes_version")
    expected = f"< {kubeadm[0]}.{kubeadm[1] + 1}.0"
    if wanted[:2] >= (kubeadm[0], kubeadm[1] + 1):
        return failed(
            text,
            expected,
            f"Kubernetes {target} is newer than kubeadm {kubeadm[0]}.{kubeadm[1]}.x: upgrade kubeadm",
        )
    return passed(text, expected, f"kubeadm {text} can install Kubernetes {target}")


@check("kubelet.version_skew", "kubeadm", profiles=NODE_PROFILES)
def kubelet_version_skew(ctx):
    # KubeletVersionCheck: not older than kubeadm's minimum (minor - 3), not newer than the control plane.
    kubelet = parse_kubelet_version(_version_output(ctx, "kubelet", ["--version"]))
    shown = ".".join(map(str, kubelet))
    target = ctx.setting("kubernetes_version")
    if target:
        reference, source = semver(target, "kubernetes_version"), "kubernetes_version"
    elif ctx.which("kubeadm"):
        reference, source = semver(_version_output(ctx, "kubeadm", ["version", "-o", "short"]), "kubeadm"), "kubeadm"
    else:
        raise Skip("neither kubernetes_version nor kubeadm: nothing to compare the kubelet with")
    lowest = (reference[0], max(reference[1] - KUBELET_MAX_MINOR_SKEW, 0))
    expected = f">= {lowest[0]}.{lowest[1]}.0" + (f", <= {reference[0]}.{reference[1]}.x" if target else "")
    if kubelet[:2] < lowest:
        return failed(shown, expected, f"kubelet {shown} is older than {source} supports ({expected})")
    if target and kubelet[:2] > reference[:2]:
        return failed(
            shown, expected, f"kubelet {shown} is newer than the control plane {target}: unsupported version skew"
        )
    return passed(shown, expected, f"kubelet {shown} within the supported skew of {source}")


def _systemctl_state(ctx, verb, unit):
    """(rc, first word of stdout, stderr) of `systemctl <verb> <unit>`; Skip when systemd does not answer."""
    rc, out, err = ctx.run("systemctl", [verb, unit])
    state = out.strip().splitlines()[0].strip() if out.strip() else ""
    if not state and "No such file" not in err and "not-found" not in err:
        raise Skip(f"systemctl {verb} {unit} gave no state (rc {rc}): {err.strip()[:200]}")
    return rc, state, err


@check("firewalld.inactive", "kubeadm", severity=WARN, profiles=ALL_PROFILES)
def firewalld_inactive(ctx):
    # FirewalldCheck: an active firewalld is a warning naming the ports that must stay open.
    _rc, state, _err = _systemctl_state(ctx, "is-active", "firewalld.service")
    ports = host_ports(ctx)
    if state == "active":
        shown = ", ".join(map(str, ports)) or "the cluster's"
        return failed(state, "inactive", f"firewalld is active: make sure ports {shown} are open")
    return passed(state or "not-found", "inactive", "firewalld is not active")


@check("kubelet.service_enabled", "kubeadm", severity=WARN, profiles=NODE_PROFILES)
def kubelet_service_enabled(ctx):
    # ServiceCheck{kubelet, CheckIfActive: false}: a missing or disabled unit is a warning.
    rc, state, _err = _systemctl_state(ctx, "is-enabled", "kubelet.service")
    if rc == 0:
        return passed(state, "enabled", f"kubelet.service is {state}")
    if not state or state == "not-found":
        return failed("not-found", "enabled", "kubelet.service does not exist (kubelet not installed yet?)")
    return failed(state, "enabled", f"kubelet.service is {state}: systemctl enable kubelet.service")


@check("kubeadm.static_pod_manifests", "kubeadm", profiles=("control_plane",))
def static_pod_manifests(ctx):
    # kubeadm init's FileAvailable checks: no control plane manifest may exist before init.
    wanted = list(ctx.setting("static_pod_manifests"))
    present = [path for path in wanted if ctx.exists(path)]
    if present:
        return failed(present, [], f"static pod manifests already present (kubeadm reset?): {', '.join(present)}")
    return passed([], [], f"none of {len(wanted)} static pod manifests present")


def _inside(path, folder):
    path, folder = os.path.normpath(path), os.path.normpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@check("etcd.leftover_data", "kubeadm", profiles=("control_plane", "etcd"))
def etcd_leftover_data(ctx):
    # kubeadm's DirAvailable--var-lib-etcd (stacked etcd only). Our etcd is external; a member's data folder
    # (etcd_data_dirs, from the etcd role for the clusters the host is a member of) is its own, not a leftover,
    # and a parent of it may hold exactly those folders. Anything else in etcd_leftover_dirs is left over.
    own = [os.path.normpath(p) for p in ctx.setting("etcd_data_dirs")] if "etcd" in ctx.profiles else []
    leftovers, owned = {}, []
    for configured in ctx.setting("etcd_leftover_dirs"):
        folder = os.path.normpath(configured)
        if any(_inside(folder, mine) for mine in own):
            owned.append(folder)
            continue
        try:
            entries = sorted(os.listdir(ctx.path(folder)))
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            leftovers[folder] = ["(a file)"]
            continue
        except OSError as exc:
            raise Skip(f"cannot list {folder}: {exc.strerror}") from exc
        keep = {os.path.relpath(mine, folder).split("/")[0] for mine in own if _inside(mine, folder)}
        extra = [name for name in entries if name not in keep]
        if extra:
            leftovers[folder] = extra[:10]
    expected = {"leftovers": {}, "members": own}
    if leftovers:
        shown = "; ".join(f"{path}: {', '.join(names)}" for path, names in leftovers.items())
        return failed(leftovers, expected, f"etcd data that no etcd member of this host owns (old cluster?): {shown}")
    message = "no etcd data left over"
    if owned or own:
        message += f" (this host's members: {', '.join(own)})"
    return passed({}, expected, message)


def _dropin_environment(ctx, unit):
    """Environment= assignments of a unit's drop-ins in /etc/systemd/system/<unit>.d/*.conf, in file order."""
    folder = f"/etc/systemd/system/{unit}.d"
    try:
        names = sorted(n for n in os.listdir(ctx.path(folder)) if n.endswith(".conf"))
    except OSError:
        return {}
    values = {}
    for name in names:
        for line in ctx.read(f"{folder}/{name}").splitlines():
            key, sep, value = line.strip().partition("=")
            if not sep or key.strip() != "Environment":
                continue
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise CheckError(f"{folder}/{name}: Environment= does not parse: {line.strip()!r}") from exc
            for word in words:
                env_key, env_sep, env_value = word.partition("=")
                if env_sep:
                    values[env_key] = env_value
    return values


def _proxy_sources(ctx):
    """Environments a kubeadm, kubelet or containerd process would read proxies from, by name."""
    sources = {}
    process = ctx.setting("proxy_env")
    if process is None and ctx.root == "/":
        process = dict(os.environ)
    if process:
        sources["environment"] = dict(process)
    if ctx.exists("/etc/environment"):
        sources["/etc/environment"] = parse_environment_file(ctx.read("/etc/environment"))
    for unit in ctx.setting("proxy_units"):
        values = _dropin_environment(ctx, unit)
        if values:
            sources[unit] = values
    return sources


def _proxy_targets(ctx):
    """(label, host, port) kubeadm asks about: the API endpoint, the first address of each service/pod CIDR."""
    targets = []
    endpoint = ctx.setting("api_endpoint")
    if endpoint:
        host, _port = endpoint_host_port(endpoint)
        targets.append((f"api_endpoint {endpoint}", host, HTTPS_PORT))
    for name in ("service_cidr", "pod_cidr"):
        for cidr in str(ctx.setting(name) or "").split(","):
            if cidr.strip():
                targets.append((f"{name} {cidr.strip()}", first_address(cidr), CIDR_PROBE_PORT))
    return targets


@check("net.http_proxy", "kubeadm", severity=WARN, profiles=NODE_PROFILES)
def http_proxy(ctx):
    # HTTPProxyCheck and HTTPProxyCIDRCheck: a connection to the API endpoint or into the service and pod
    # ranges that would go through HTTPS_PROXY (NO_PROXY not covering it) is a warning.
    targets = _proxy_targets(ctx)
    observed, problems = {}, []
    for source, env in _proxy_sources(ctx).items():
        proxy, no_proxy = proxy_settings(env)
        if not proxy:
            continue
        proxied = [label for label, host, port in targets if not proxy_bypassed(host, port, no_proxy)]
        observed[source] = {"https_proxy": proxy, "no_proxy": no_proxy, "proxied": proxied}
        if proxied:
            problems.append(f"{source}: {', '.join(proxied)} via {proxy}")
    expected = "NO_PROXY covers " + (", ".join(label for label, _h, _p in targets) or "nothing asked")
    if problems:
        return failed(observed, expected, "would use the HTTPS proxy: " + "; ".join(problems) + " (add to NO_PROXY)")
    if not observed:
        return passed({}, expected, "no HTTPS proxy set")
    return passed(observed, expected, "NO_PROXY covers the API endpoint and the cluster ranges")


@check("net.ipv6_forward", "kubeadm", profiles=NODE_PROFILES)
def ipv6_forward(ctx):
    # kubeadm's FileContent--proc-sys-net-ipv6-conf-default-forwarding, added when the service or pod CIDR
    # or the advertise/API address is IPv6 (single or dual stack).
    sixes = [
        f"{name} {value.strip()}"
        for name in ("service_cidr", "pod_cidr", "api_endpoint")
        for value in str(ctx.setting(name) or "").split(",")
        if value.strip() and ip_version(value if name != "api_endpoint" else endpoint_host_port(value)[0]) == 6
    ]
    if not sixes:
        raise Skip("no IPv6 in service_cidr, pod_cidr or api_endpoint: IPv6 forwarding is not needed")
    if not ctx.exists("/proc/sys/net/ipv6"):
        return failed(None, "1", f"IPv6 is disabled in the kernel but the cluster uses it ({', '.join(sixes)})")
    value = ctx.read("/proc/sys/net/ipv6/conf/default/forwarding").strip()
    if value == "1":
        return passed(value, "1", f"IPv6 forwarding is on ({', '.join(sixes)})")
    uses = ", ".join(sixes)
    return failed(value, "1", f"net.ipv6.conf.default.forwarding is not 1 and the cluster uses IPv6 ({uses})")


def _kernel_config_text(ctx, release):
    """(path, text) of the first readable kernel config; Skip naming every place looked at."""
    tried = []
    for pattern in KERNEL_CONFIG_PATHS:
        path = pattern.format(release=release)
        try:
            with open(ctx.path(path), "rb") as handle:
                data = handle.read(16 * 1024 * 1024)
        except OSError as exc:
            tried.append(f"{path} ({exc.strerror or exc})")
            continue
        if path.endswith(".gz"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as exc:
                raise CheckError(f"{path} is not gzip data: {exc}") from exc
        return path, data.decode("utf-8", "replace")
    raise Skip("no kernel config readable (modprobe configs is not tried): " + "; ".join(tried))


@check("kernel.config", "kubeadm", profiles=NODE_PROFILES)
def kernel_config(ctx):
    # The KernelValidator of kubeadm's SystemVerification: required options (and those of the cgroup version
    # in use) built in or modules; missing optional ones are reported, not failed (as the validator does).
    release = ctx.read("/proc/sys/kernel/osrelease").strip()
    path, text = _kernel_config_text(ctx, release)
    options = parse_kernel_config(text)
    v2 = ctx.exists("/sys/fs/cgroup/cgroup.controllers")
    required = list(ctx.setting("kernel_config_required")) + list(
        ctx.setting("kernel_config_cgroup_v2" if v2 else "kernel_config_cgroup_v1")
    )
    missing = kernel_config_missing(options, required)
    optional_missing = kernel_config_missing(options, ctx.setting("kernel_config_optional"))
    observed = {"config": path, "cgroup": "v2" if v2 else "v1", "missing": missing}
    observed["optional_missing"] = optional_missing
    if missing:
        return failed(observed, required, f"{path}: required kernel options not set: {', '.join(missing)}")
    note = f"; optional not set: {', '.join(optional_missing)}" if optional_missing else ""
    return passed(observed, required, f"{path}: {len(required)} required kernel options set{note}")


def _registry_candidates(ctx, registry):
    """Where containerd pulls a registry's images from: the hosts.toml mirrors in order, then the origin."""
    base = str(ctx.setting("registry_config_path")).rstrip("/")
    for folder in (registry, "_default"):
        path = f"{base}/{folder}/hosts.toml"
        if ctx.exists(path):
            parsed = parse_hosts_toml(ctx.read(path))
            origin = parsed["server"] or REGISTRY_ORIGINS.get(registry, f"https://{registry}")
            return [*parsed["hosts"], origin], path
    return [REGISTRY_ORIGINS.get(registry, f"https://{registry}")], None


def _reachable(ctx, url):
    """Whether host:port of ``url`` accepts a TCP connection. The name lookup runs in a thread so that a
    resolver that does not answer (an offline host) costs at most the connect timeout too."""
    host, port = url_host_port(url)
    limit = min(ctx.timeout, 2.0)
    answer = {}

    def lookup():
        try:
            answer["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            answer["error"] = exc

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(limit)
    if "error" in answer:
        return False, f"{host}:{port} ({answer['error'].strerror or answer['error']})"
    if "addresses" not in answer:
        return False, f"{host}:{port} (name lookup timed out after {limit:g} s)"
    family, kind, proto, _name, address = answer["addresses"][0]
    try:
        with socket.socket(family, kind, proto) as client:
            client.settimeout(limit)
            client.connect(address)
        return True, f"{host}:{port}"
    except OSError as exc:
        return False, f"{host}:{port} ({exc.strerror or exc})"


@check("images.present", "kubeadm", severity=WARN, profiles=NODE_PROFILES)
def images_present(ctx):
    # kubeadm's ImagePull pulls; a read-only preflight asks containerd which of the images the node needs
    # it has (ctr over the CRI socket, namespace k8s.io), and for the others whether a mirror of their
    # registry (containerd's hosts.toml) or the registry itself accepts a TCP connection.
    images = [normalize_image(ref) for ref in ctx.setting("images") or ()]
    if not images:
        raise Skip("no images listed (setting images)")
    socket_path = ctx.setting("cri_socket")
    args = ["--address", socket_path, "--namespace", "k8s.io", "images", "list", "--quiet"]
    rc, out, err = ctx.run("ctr", args)
    if rc != 0:
        raise CheckError(f"ctr images list exited {rc}: {(err or out).strip()[:200]}")
    present = {normalize_image(line) for line in out.splitlines() if line.strip() and not line.startswith("sha256:")}
    missing = [ref for ref in images if ref not in present]
    if not missing:
        return passed({"missing": []}, images, f"{len(images)} image(s) present in containerd")
    routes, unreachable = {}, []
    for registry in dict.fromkeys(image_registry(ref) for ref in missing):
        candidates, _config = _registry_candidates(ctx, registry)
        tried = []
        for url in candidates:
            ok, where = _reachable(ctx, url)
            tried.append(where)
            if ok:
                routes[registry] = where
                break
        else:
            unreachable.append(f"{registry} (tried {', '.join(tried)})")
    observed = {"missing": missing, "pull_from": routes}
    if unreachable:
        return failed(
            observed, images, f"not in containerd: {', '.join(missing)}; no way to pull: {'; '.join(unreachable)}"
        )
    via = ", ".join(f"{registry} via {where}" for registry, where in routes.items())
    return passed(observed, images, f"not in containerd yet: {', '.join(missing)}; reachable: {via}")
