"""A simulated kube-apiserver: Kubernetes REST/JSON over TLS, objects stored in real etcd."""
