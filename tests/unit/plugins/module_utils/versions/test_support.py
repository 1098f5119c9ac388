"""The support window: the newest minor probed from a repository on 127.0.0.1 (200 for the minors it has, 403 for
the others, as pkgs.k8s.io answers), the window's arithmetic and its one-line summary."""

from __future__ import annotations

import time

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.support import (
    MAX_PROBES,
    ProbeFailed,
    check_base_url,
    check_timeout,
    http_status,
    minor_url,
    probe_newest_minor,
    support_window,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import parse
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.versions.repo_server import (
    RepoServer,
    serve,
)

LAB_MINORS = range(33, 38)  # the lab's repository serves v1.33 to v1.37


def asked_minors(repo):
    return [int(path.split("/v1.")[1].split("/")[0]) for path in repo.requests if not path.startswith("/cdn/")]


def test_minor_url():
    assert (
        minor_url("https://pkgs.k8s.io/core:/stable:/", 1, 34)
        == "https://pkgs.k8s.io/core:/stable:/v1.34/deb/InRelease"
    )


@pytest.mark.parametrize(("cluster", "newest"), [("v1.34.2", "v1.37"), ("v1.37.0", "v1.37"), ("v1.33.9", "v1.37")])
def test_probe_stops_at_the_first_missing_minor(cluster, newest):
    with serve(RepoServer(LAB_MINORS)) as repo:
        found, probes = probe_newest_minor(repo.base_url, parse(cluster), timeout=5)
    assert str(found) == newest
    start = parse(cluster).minor
    assert asked_minors(repo) == list(range(start, 39))  # up to and including v1.38, the first 403
    assert probes[-1] == {"minor": "v1.38", "url": minor_url(repo.base_url, 1, 38), "status": 403}
    assert {p["status"] for p in probes[:-1]} == {200}


def test_probe_skips_missing_minors_below_the_first_one_found():
    # a cluster older than the repository's oldest minor (pkgs.k8s.io starts at v1.24; the lab at v1.33)
    with serve(RepoServer(LAB_MINORS)) as repo:
        found, probes = probe_newest_minor(repo.base_url, parse("v1.31.4"), timeout=5)
    assert str(found) == "v1.37"
    assert [p["status"] for p in probes] == [403, 403, 200, 200, 200, 200, 200, 403]


def test_probe_follows_redirects_and_takes_404_for_missing():
    with serve(RepoServer(LAB_MINORS, redirect=True, missing_status=404)) as repo:
        found, _probes = probe_newest_minor(repo.base_url, parse("v1.35.0"), timeout=5)
    assert str(found) == "v1.37"
    assert any(path.startswith("/cdn/") for path in repo.requests)


def test_probe_with_no_minor_at_all_fails_in_one_line():
    with serve(RepoServer(range(0))) as repo, pytest.raises(ProbeFailed) as caught:
        probe_newest_minor(repo.base_url, parse("v1.34.0"), timeout=5)
    assert len(repo.requests) == MAX_PROBES
    assert caught.value.message == (
        f"{repo.base_url} has no minor from v1.34 to v1.49 (each answered 403/404); "
        "check repo_base_url or give newest_minor instead"
    )


def test_probe_of_a_server_that_answers_everything_is_bounded():
    with serve(RepoServer(range(0, 10_000))) as repo, pytest.raises(ProbeFailed, match="answered for every minor"):
        probe_newest_minor(repo.base_url, parse("v1.34.0"), timeout=5)
    assert len(repo.requests) == MAX_PROBES


def test_probe_refuses_an_unexpected_status():
    with serve(RepoServer(LAB_MINORS, statuses={35: 500})) as repo, pytest.raises(ProbeFailed) as caught:
        probe_newest_minor(repo.base_url, parse("v1.34.0"), timeout=5)
    assert "v1.35/deb/InRelease answered HTTP 500" in caught.value.message
    assert caught.value.details["probes"][0]["status"] == 200


def test_probe_times_out_within_its_timeout():
    with serve(RepoServer(LAB_MINORS, delay=0.4)) as repo:
        started = time.monotonic()
        with pytest.raises(ProbeFailed) as caught:
            probe_newest_minor(repo.base_url, parse("v1.34.0"), timeout=0.6)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    # v1.34 answered after 0.4 s; the 0.2 s left were not enough for v1.35
    assert caught.value.message == (
        f"probing {minor_url(repo.base_url, 1, 35)} failed: timed out; check repo_base_url or give newest_minor instead"
    )


def test_probe_of_a_closed_port_fails_naming_the_url():
    with serve(RepoServer(LAB_MINORS)) as repo:
        base = repo.base_url
    with pytest.raises(ProbeFailed) as caught:
        probe_newest_minor(base, parse("v1.34.0"), timeout=2)
    assert caught.value.message.startswith(f"probing {minor_url(base, 1, 34)} failed: ")
    assert "\n" not in caught.value.message


def test_http_status_reports_403_and_200():
    with serve(RepoServer(LAB_MINORS)) as repo:
        assert http_status(minor_url(repo.base_url, 1, 33), 5) == 200
        assert http_status(minor_url(repo.base_url, 1, 32), 5) == 403


@pytest.mark.parametrize(
    ("cluster", "newest", "summary", "supported", "behind"),
    [
        ("v1.35.1", "1.35", "v1.35 is the newest minor; it is supported until v1.38 is released", True, 0),
        ("v1.34.2", "1.35", "v1.34 is supported until v1.37 is released; 1 minor behind the newest (v1.35)", True, 1),
        (
            "v1.33.0",
            "v1.35.3",
            "v1.33 is supported until v1.36 is released; 2 minors behind the newest (v1.35)",
            True,
            2,
        ),
        (
            "v1.32.9",
            "1.35",
            "v1.32 is no longer supported (since v1.35 was released); 3 minors behind the newest (v1.35), "
            "the supported minors are v1.33, v1.34, v1.35",
            False,
            3,
        ),
    ],
)
def test_support_window(cluster, newest, summary, supported, behind):
    window = support_window(parse(cluster), parse(newest), "newest_minor")
    assert window["summary"] == summary
    assert window["supported"] is supported
    assert window["minors_behind"] == behind
    assert window["supported_minors"] == ["v1.33", "v1.34", "v1.35"]
    assert window["target_supported"] is None


@pytest.mark.parametrize(("target", "expected"), [("1.35", True), ("v1.33.2", True), ("v1.32.4", False)])
def test_support_window_says_whether_the_target_is_supported(target, expected):
    window = support_window(parse("v1.32.1"), parse("1.35"), "newest_minor", parse(target))
    assert window["target_supported"] is expected


def test_newest_older_than_the_cluster_is_refused():
    with pytest.raises(InvalidInput, match=r"^newest_minor v1.33 is older than the cluster's v1.34.2"):
        support_window(parse("v1.34.2"), parse("1.33"), "newest_minor")


@pytest.mark.parametrize("value", ["ftp://mirror/k8s", "", "pkgs.k8s.io/core:/stable:", "http://", "https://a b", 7])
def test_bad_base_urls_are_refused_naming_them(value):
    with pytest.raises(InvalidInput) as caught:
        check_base_url(value)
    assert caught.value.message.startswith(f"repo_base_url {value!r} ")


@pytest.mark.parametrize("value", [0, -1, 301, float("nan"), float("inf"), "10", True])
def test_bad_timeouts_are_refused(value):
    with pytest.raises(InvalidInput, match=r"^probe_timeout "):
        check_timeout(value)


def test_probe_deadline_counts_the_whole_probe():
    now = [0.0]

    def slow_opener(url, left):
        assert left > 0
        now[0] += 4
        return 200

    with pytest.raises(ProbeFailed, match=r"did not finish within probe_timeout 10s \(last asked: v1\.36\)"):
        probe_newest_minor("https://mirror.example/k8s", parse("v1.34.0"), 10, opener=slow_opener, clock=lambda: now[0])
