"""Simulated kube-controller-manager: one process, one informer per resource, one work queue.

Controllers: ReplicaSet, Deployment, DaemonSet, StatefulSet, disruption (PDB status), node lifecycle and
garbage collection. Run with ``python -m labkit.controllers --state-dir DIR``.
"""
