"""batch/v1 Jobs on the lab: kubeadm's upgrade health check, the backoff limit, the TTL-after-finished controller.

The lab's kubelets do not run containers: a test finishes a Job's pod by writing the terminal status through
``pods/<name>/status``, as a kubelet would.
"""

from __future__ import annotations

import time

import pytest
from kubernetes import client, config
from lab_helpers import run, wait_for
from labkit.kubeclient import KubeClient, path

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
TRACKING = "batch.kubernetes.io/job-tracking"


@pytest.fixture(scope="module")
def api(lab) -> KubeClient:
    return KubeClient.from_kubeconfig(lab.kubeconfig)


@pytest.fixture(scope="module")
def batch(lab) -> client.BatchV1Api:
    configuration = client.Configuration()
    config.load_kube_config(lab.kubeconfig, client_configuration=configuration)
    return client.BatchV1Api(client.ApiClient(configuration))


@pytest.fixture
def ns(api, request):
    name = f"job-{request.node.name.replace('_', '-')[5:30].strip('-')}"
    api.create(path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    api.delete_ignoring_missing(path("namespaces", name=name))


def health_check_job(name: str) -> client.V1Job:
    """The Job of kubeadm's upgrade health check "CreateJob" (cmd/kubeadm/app/phases/upgrade/health.go)."""
    pod = client.V1PodSpec(
        restart_policy="Never",
        security_context=client.V1PodSecurityContext(run_as_user=999, run_as_group=999, run_as_non_root=True),
        tolerations=[client.V1Toleration(key=CONTROL_PLANE, effect="NoSchedule")],
        containers=[client.V1Container(name=name, image="registry.k8s.io/pause:3.10", args=["-v"])],
    )
    spec = client.V1JobSpec(backoff_limit=0, ttl_seconds_after_finished=20,
                            template=client.V1PodTemplateSpec(spec=pod))  # fmt: skip
    return client.V1Job(metadata=client.V1ObjectMeta(name=name, namespace="kube-system"), spec=spec)


def job_pods(api: KubeClient, ns: str, job: str) -> list[dict]:
    return api.get(path("pods", ns), labelSelector=f"batch.kubernetes.io/job-name={job}")["items"]


def finish_pod(api: KubeClient, pod: dict, phase: str) -> None:
    """What the kubelet writes when the pod's only container exited (0 for Succeeded, 1 for Failed)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    code, reason = (0, "Completed") if phase == "Succeeded" else (1, "Error")
    container = pod["spec"]["containers"][0]
    statuses = [
        {
            "name": container["name"],
            "image": container["image"],
            "imageID": "",
            "ready": False,
            "restartCount": 0,
            "started": False,
            "state": {"terminated": {"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now}},
        }
    ]
    conditions = [{"type": "Ready", "status": "False", "reason": "PodCompleted"}]
    status = {"status": {"phase": phase, "containerStatuses": statuses, "conditions": conditions}}
    meta = pod["metadata"]
    api.patch(path("pods", meta["namespace"], meta["name"], "status"), status, kind="strategic")


def condition_types(job: dict) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", "")) for c in job["status"].get("conditions") or []]


def test_kubeadm_upgrade_health_check_job_completes_and_is_collected(api, batch, lab, kubectl):
    name = f"upgrade-health-check-{int(time.time() * 1000)}"
    created = batch.create_namespaced_job("kube-system", health_check_job(name))
    uid = created.metadata.uid
    assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert created.spec.completions == 1 and created.spec.parallelism == 1 and created.spec.backoff_limit == 0
    assert created.metadata.labels["batch.kubernetes.io/job-name"] == name

    def running_pod():
        pods = job_pods(api, "kube-system", name)
        return pods[0] if pods and pods[0]["status"].get("phase") in ("Running", "Succeeded") else None

    pod = wait_for("the job's pod running", running_pod, timeout=15)
    assert pod["metadata"]["name"].startswith(f"{name}-")
    assert pod["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] == uid
    assert pod["metadata"]["labels"]["controller-uid"] == uid and pod["metadata"]["labels"]["job-name"] == name
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == ("Job", name, uid, True)
    assert TRACKING in pod["metadata"]["finalizers"]
    assert pod["spec"]["securityContext"]["runAsUser"] == 999
    running = api.get(path("jobs", "kube-system", name))
    assert (running["status"]["active"], running["status"]["startTime"] is not None) == (1, True)
    table = run(kubectl, lab, "get", "job", name, "-n", "kube-system").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert table[1].split()[:3] == [name, "Running", "0/1"]

    started = time.monotonic()
    finish_pod(api, pod, "Succeeded")
    job = wait_for("Complete", lambda: (j := api.get(path("jobs", "kube-system", name))) and any(
        c["type"] == "Complete" for c in j["status"].get("conditions") or []) and j, timeout=15)  # fmt: skip
    assert time.monotonic() - started < 15, "kubeadm waits 15 s for the Complete condition"
    assert condition_types(job) == [("SuccessCriteriaMet", "True", "CompletionsReached"),
                                    ("Complete", "True", "CompletionsReached")]  # fmt: skip
    assert job["status"]["conditions"][1]["message"] == "Reached expected number of succeeded pods"
    status = job["status"]
    assert (status["succeeded"], status.get("active"), status["ready"], status["terminating"]) == (1, None, 0, 0)
    assert status["uncountedTerminatedPods"] == {} and status["completionTime"] >= status["startTime"]
    assert TRACKING not in (api.get(path("pods", "kube-system", pod["metadata"]["name"]))["metadata"].get(
        "finalizers") or [])  # fmt: skip

    # ttlSecondsAfterFinished 20, scaled by the time factor: the TTL controller deletes it in the background
    ttl = 20 * lab.info["time_factor"]
    wait_for("the job deleted by its TTL", lambda: api.get_or_none(path("jobs", "kube-system", name)) is None,
             timeout=ttl + 10)  # fmt: skip
    wait_for("its pod collected", lambda: not job_pods(api, "kube-system", name), timeout=10)


def unscheduled_job(ns: str, name: str, backoff_limit: int) -> dict:
    """A Job whose pods stay Pending and unbound (no node has the label): only the test finishes them."""
    pod = {"restartPolicy": "Never", "nodeSelector": {"lab.cluster-ops.io/none": "x"},
           "containers": [{"name": "work", "image": "registry.k8s.io/pause:3.10"}]}  # fmt: skip
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": ns},
            "spec": {"backoffLimit": backoff_limit, "template": {"spec": pod}}}  # fmt: skip


def test_failed_pods_are_replaced_until_the_backoff_limit(api, ns, lab, kubectl):
    api.create(path("jobs", ns), unscheduled_job(ns, "flaky", backoff_limit=1))
    first = wait_for("the first pod", lambda: job_pods(api, ns, "flaky"))[0]
    finish_pod(api, first, "Failed")

    def replacement():
        pods = [p for p in job_pods(api, ns, "flaky") if p["metadata"]["uid"] != first["metadata"]["uid"]]
        return pods[0] if pods else None

    second = wait_for("a replacement after the scaled backoff", replacement, timeout=10)
    job = api.get(path("jobs", ns, "flaky"))
    assert job["status"]["failed"] == 1 and not job["status"].get("conditions")
    finish_pod(api, second, "Failed")  # the second failure exceeds backoffLimit 1
    job = wait_for("Failed", lambda: (j := api.get(path("jobs", ns, "flaky"))) and any(
        c["type"] == "Failed" for c in j["status"].get("conditions") or []) and j)  # fmt: skip
    assert condition_types(job) == [("FailureTarget", "True", "BackoffLimitExceeded"),
                                    ("Failed", "True", "BackoffLimitExceeded")]  # fmt: skip
    assert job["status"]["conditions"][1]["message"] == "Job has reached the specified backoff limit"
    assert job["status"]["failed"] == 2 and "completionTime" not in job["status"]
    assert run(kubectl, lab, "get", "job", "flaky", "-n", ns).stdout.splitlines()[1].split()[:3] == [
        "flaky", "Failed", "0/1"]  # fmt: skip
    time.sleep(0.5)
    assert len(job_pods(api, ns, "flaky")) == 2, "no pod after the Job failed"


def test_a_failing_job_deletes_its_running_pods(api, ns):
    body = unscheduled_job(ns, "pair", backoff_limit=0)
    body["spec"]["parallelism"] = 2
    body["spec"]["completions"] = 2
    api.create(path("jobs", ns), body)
    pods = wait_for("two pods", lambda: len(p := job_pods(api, ns, "pair")) == 2 and p)
    finish_pod(api, pods[0], "Failed")
    job = wait_for("Failed", lambda: (j := api.get(path("jobs", ns, "pair"))) and any(
        c["type"] == "Failed" for c in j["status"].get("conditions") or []) and j)  # fmt: skip
    assert job["status"]["failed"] == 2, "the pod deleted because the Job failed counts as failed too"
    assert [p["metadata"]["name"] for p in job_pods(api, ns, "pair")] == [pods[0]["metadata"]["name"]]


def test_job_validation_is_the_real_one(api, ns):
    body = unscheduled_job(ns, "always", backoff_limit=0)
    body["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    with pytest.raises(Exception) as caught:
        api.create(path("jobs", ns), body)
    assert caught.value.status == 422  # type: ignore[attr-defined]
    assert caught.value.body["message"] == (  # type: ignore[attr-defined]
        'Job.batch "always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": '
        'supported values: "OnFailure", "Never"'
    )
