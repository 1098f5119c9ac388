"""Simulated kube-controller-manager: one process, one informer per resource, one work queue.

Controllers: ReplicaSet, Deployment, DaemonSet, StatefulSet, Job, TTL-after-finished, disruption (PDB status)
and node lifecycle. Run with ``python -m labkit.controllers --state-dir DIR``.
"""
