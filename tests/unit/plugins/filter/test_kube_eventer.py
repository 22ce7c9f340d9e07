"""kube_eventer filters: the webhook sink option as kube-eventer parses it, and the input checks."""

from urllib.parse import parse_qs, urlsplit

from ansible_collections.aiplatform.cluster.plugins.filter.kube_eventer import kube_eventer_problems, kube_eventer_sink

SETTINGS = {
    "kube_eventer_enabled": True,
    "kube_eventer_webhook_url": "https://events.example.com/hook",
    "kube_eventer_level": "Warning",
    "kube_eventer_namespaces": [],
    "kube_eventer_kinds": [],
    "kube_eventer_headers": {"Content-Type": "application/json"},
}


def test_sink_options_are_the_urls_query():
    sink = kube_eventer_sink({**SETTINGS, "kube_eventer_kinds": ["Node", "Pod"]})
    assert (
        sink
        == "webhook:https://events.example.com/hook?level=Warning&method=POST&kinds=Node,Pod&header=Content-Type=application/json"
    )
    # As kube-eventer reads it (url.Parse of what follows "webhook:", then the query's options).
    query = parse_qs(urlsplit(sink.split(":", 1)[1]).query)
    assert query == {
        "level": ["Warning"],
        "method": ["POST"],
        "kinds": ["Node,Pod"],
        "header": ["Content-Type=application/json"],
    }
    with_query = kube_eventer_sink({**SETTINGS, "kube_eventer_webhook_url": "https://x.example/h?token=abc"})
    assert with_query.startswith("webhook:https://x.example/h?token=abc&level=Warning&")


def test_problems():
    assert kube_eventer_problems(SETTINGS) == []
    assert kube_eventer_problems({**SETTINGS, "kube_eventer_enabled": "false", "kube_eventer_webhook_url": ""}) == []
    assert kube_eventer_problems(
        {
            **SETTINGS,
            "kube_eventer_webhook_url": "",
            "kube_eventer_level": "Error",
            "kube_eventer_kinds": ["pod"],
            "kube_eventer_headers": {"a b": "c"},
        }
    ) == [
        "kube_eventer_webhook_url: must be an http:// or https:// URL (required when enabled) (got '')",
        "kube_eventer_level: must be one of Normal, Warning (got 'Error')",
        "kube_eventer_kinds: kinds are CamelCase (Node, Pod...) (got ['pod'])",
        "kube_eventer_headers: must map header names (A-Z, 0-9, -) to values without '&' (got {'a b': 'c'})",
    ]
