"""The lab's simulated kubeadm (shipped in the ``kubeadm`` package); the lab's own "init" and "join" share its
manifest, configuration and certificate code, as the real kubeadm's init and upgrade do."""
