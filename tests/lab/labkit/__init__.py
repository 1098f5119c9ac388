"""Building blocks of the lab: PKI, etcd and the simulated kube-apiserver."""
