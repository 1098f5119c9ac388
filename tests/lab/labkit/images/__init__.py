"""The control plane's "container images" in node containers: kube-apiserver, kube-controller-manager and
kube-scheduler entry points that take the real components' flags from the static pod manifest and run labkit's
simulations (the kubelet runs them from the lab's read-only image store; see labkit.static_pods)."""
