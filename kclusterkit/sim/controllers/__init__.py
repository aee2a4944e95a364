"""kube-controller-manager for the simulator: the controllers that turn intent into pods.

``ControllerManager`` (``manager``) starts them on a cluster the way the controller
manager starts its loops; each one only reads the store and writes through the API.
"""

from __future__ import annotations
